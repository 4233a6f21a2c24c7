/**
 * Imported first by main.ts, so it runs before any other module loads: from here on SIGTERM,
 * SIGINT and SIGHUP are held (daemon/earlySignals.ts) until the daemon installs its own handlers,
 * or given back to Node's default for -onetime and the subcommands.
 */
import { holdSignals } from '../daemon/earlySignals.js';

holdSignals();

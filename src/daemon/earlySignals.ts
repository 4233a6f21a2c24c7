/**
 * SIGTERM, SIGINT and SIGHUP from the moment the daemon starts loading until its own handlers are
 * in place. Without handlers Node's default would apply: SIGTERM/SIGINT kill the process on the
 * spot (no "stopping", a pass cut anywhere), and a SIGHUP — `systemctl reload` right after a start —
 * kills it too. Held here instead, and handed to the daemon when it installs its handlers.
 */
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
type HeldSignal = (typeof SIGNALS)[number];

const held: HeldSignal[] = [];
let installed = false;
const onSignal = (sig: NodeJS.Signals): void => {
  held.push(sig as HeldSignal);
};

/**
 * Installs the holding handlers (idempotent). cli/main.ts does so with its very first import
 * (cli/holdSignals.ts), before any other module loads.
 */
export function holdSignals(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
}

/**
 * Removes the holding handlers and returns the signals received meanwhile, in order. The caller
 * installs its own handlers *before* calling this, so there is no moment without one.
 */
export function releaseHeldSignals(): HeldSignal[] {
  if (installed) {
    installed = false;
    for (const s of SIGNALS) process.off(s, onSignal);
  }
  return held.splice(0);
}

/**
 * For modes that keep Node's default behaviour (-onetime, subcommands): the holding handlers go,
 * and a signal held meanwhile is raised again, so it acts as if it had just arrived.
 */
export function restoreDefaultSignals(): void {
  for (const sig of releaseHeldSignals()) process.kill(process.pid, sig);
}

#!/usr/bin/env node
/**
 * haconfd's entry point: subcommands (haproxy, keepalived) or the confd-compatible renderer.
 * Exit codes: 0 in sync, 1 a resource failed, 2 usage or configuration error.
 */
import { parseFlags, UsageError } from '../config/flags.js';
import { usageText } from './usage.js';
import { packageVersion } from './version.js';
import { ConfigError, loadConfig } from '../config/loadConfig.js';
import { createLogger } from '../log/logger.js';

interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type SubcommandRunner = (argv: readonly string[], io: CommandIo) => Promise<number>;

/** Subcommands load their modules only when used (start-up time matters for -onetime). */
const SUBCOMMANDS: Record<string, () => Promise<SubcommandRunner>> = {
  haproxy: async () => {
    const modPath = './haproxyCommand.js';
    return ((await import(modPath)) as { runHaproxyCommand: SubcommandRunner }).runHaproxyCommand;
  },
  keepalived: async () => {
    const modPath = './keepalivedCommand.js';
    return ((await import(modPath)) as { runKeepalivedCommand: SubcommandRunner }).runKeepalivedCommand;
  },
};

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const io: CommandIo = { stdout: process.stdout, stderr: process.stderr };
  const sub = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  if (sub !== undefined) return (await sub())(argv.slice(1), io);

  let config;
  let flags;
  try {
    let rest;
    ({ flags, rest } = parseFlags(argv));
    if (flags.get('help') === true) {
      io.stdout.write(usageText());
      return 0;
    }
    if (flags.get('version') === true) {
      io.stdout.write(`haconfd ${packageVersion()}\n`);
      return 0;
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"; see -help`);
    config = loadConfig({ flags, env });
    // [controller]'s values are checked in every mode, as its keys are (a daemon would refuse them).
    if (config.tables.controller !== undefined) {
      const { controllerSettingsOf } = await import('../haproxy/controller/controllerConfig.js');
      try {
        controllerSettingsOf(config.tables);
      } catch (e) {
        throw new ConfigError(`${config.configFile ?? 'config file'}: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.stderr.write(`haconfd: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  if (config.mode === 'onetime') {
    const { runOnetime } = await import('../daemon/onetime.js');
    return runOnetime(config, log);
  }
  const parsed = flags;
  // The composition root: the daemon, its resource workers, and the HAProxy controller when
  // haconfd.toml has a [controller] table (at start-up or after a SIGHUP that adds one).
  const { runDaemon } = await import('../daemon/compose.js');
  return runDaemon(config, log, { reloadConfig: () => loadConfig({ flags: parsed, env }) });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`haconfd: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);

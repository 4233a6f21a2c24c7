/** The one typed, validated configuration every other layer receives. */
import type { LogFormat, LogLevel } from '../log/logger.js';
import type { ConfigTables } from './tables.js';

/** A configuration problem: exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Mode = 'onetime' | 'interval' | 'watch';
export type BackendName = 'etcdv3' | 'zookeeper' | 'file' | 'env';

export interface Config {
  readonly mode: Mode;
  /** Seconds between passes (interval mode) or between safety re-reads (watch mode). */
  readonly intervalSeconds: number;
  /** True when -interval was set explicitly (watch mode then uses it for the safety re-read). */
  readonly intervalGiven: boolean;
  readonly noop: boolean;
  readonly syncOnly: boolean;
  readonly keepStageFile: boolean;
  /** The global -prefix, normalised; undefined when not set. When set it replaces every resource's `prefix` (as in confd). */
  readonly prefix: string | undefined;
  readonly confdir: string;
  /** The config file that was read, if any. */
  readonly configFile: string | undefined;
  readonly backend: BackendName;
  readonly nodes: readonly string[];
  readonly files: readonly string[];
  /** -filter: Go filepath.Match pattern for the files under a -file directory (default "*", as confd). */
  readonly fileFilter: string;
  readonly tls: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  readonly auth: { readonly username: string; readonly password: string } | undefined;
  readonly connectTimeoutMs: number;
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  readonly minReloadIntervalMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** The config file's tables ([haproxy], [controller]), key-checked and typed (tables.ts). */
  readonly tables: ConfigTables;
}

export const DEFAULTS = {
  intervalSeconds: 600,
  backend: 'etcdv3' as BackendName,
  nodes: ['127.0.0.1:2379'],
  /** confd's default for -backend zookeeper. */
  zookeeperNodes: ['127.0.0.1:2181'],
  connectTimeoutMs: 5000,
  minReloadIntervalMs: 500,
  logLevel: 'info' as LogLevel,
};

/** Directory of the resources and templates. */
export function confDDir(config: Pick<Config, 'confdir'>): string {
  return `${config.confdir}/conf.d`;
}

export function templatesDir(config: Pick<Config, 'confdir'>): string {
  return `${config.confdir}/templates`;
}

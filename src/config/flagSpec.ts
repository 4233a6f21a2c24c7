/**
 * The confd-compatible flag set: one table that drives parsing, the environment (HACONFD_*), the
 * config file keys, and `-help`.
 */
export type FlagKind = 'bool' | 'string' | 'int' | 'list';

export interface FlagDef {
  readonly name: string;
  readonly kind: FlagKind;
  readonly help: string;
  /** Shown in -help; the typed default lives in config/defaults.ts. */
  readonly placeholder?: string;
  /** Not settable from the config file (e.g. -config-file itself, -version). */
  readonly flagOnly?: boolean;
}

export const FLAGS: readonly FlagDef[] = [
  { name: 'onetime', kind: 'bool', help: 'run one pass over every resource and exit (wins over -watch)' },
  { name: 'interval', kind: 'int', placeholder: 'SECONDS', help: 'seconds to sleep between passes in polling mode (default 600)' },
  { name: 'watch', kind: 'bool', help: 'react to backend changes as they happen' },
  { name: 'noop', kind: 'bool', help: 'render and show a unified diff, write nothing, run no command' },
  { name: 'sync-only', kind: 'bool', help: 'write files but skip check_cmd and reload_cmd' },
  { name: 'keep-stage-file', kind: 'bool', help: 'keep the staged file next to the destination' },
  { name: 'prefix', kind: 'string', placeholder: 'PATH', help: "key prefix; replaces every resource's own prefix, as in confd" },
  { name: 'confdir', kind: 'string', placeholder: 'DIR', help: 'directory holding conf.d/ and templates/ (default /etc/haconfd if it exists, else /etc/confd as confd)' },
  { name: 'config-file', kind: 'string', placeholder: 'FILE', help: 'TOML config file (default <confdir>/haconfd.toml, else /etc/confd/confd.toml as confd; skipped if absent)', flagOnly: true },
  { name: 'backend', kind: 'string', placeholder: 'NAME', help: 'etcdv3 (alias etcd), zookeeper, file or env (default etcdv3)' },
  { name: 'node', kind: 'list', placeholder: 'URL', help: 'backend node, repeatable: http://h:2379, https://h:2379 or h:2379 (zookeeper: h:2181, or h1:2181,h2:2181)' },
  { name: 'scheme', kind: 'string', placeholder: 'SCHEME', help: 'scheme for -node values given without one (http or https)' },
  { name: 'file', kind: 'list', placeholder: 'FILE', help: 'YAML or JSON data file (or a directory of them) for the file backend, repeatable' },
  { name: 'filter', kind: 'string', placeholder: 'GLOB', help: 'file backend: which file names under a -file directory are read (Go filepath.Match, default *)' },
  { name: 'client-cert', kind: 'string', placeholder: 'FILE', help: 'TLS client certificate' },
  { name: 'client-key', kind: 'string', placeholder: 'FILE', help: 'TLS client key' },
  { name: 'client-ca-keys', kind: 'string', placeholder: 'FILE', help: 'TLS CA certificate(s) to trust' },
  { name: 'basic-auth', kind: 'bool', help: 'authenticate to the backend with -username and -password' },
  { name: 'username', kind: 'string', placeholder: 'USER', help: 'backend user name' },
  { name: 'password', kind: 'string', placeholder: 'PASS', help: 'backend password (prefer HACONFD_PASSWORD)' },
  { name: 'connect-timeout', kind: 'int', placeholder: 'MS', help: 'backend connect timeout in milliseconds (default 5000)' },
  { name: 'listen', kind: 'string', placeholder: 'HOST:PORT', help: 'serve /healthz, /readyz and /metrics on this address' },
  { name: 'min-reload-interval', kind: 'int', placeholder: 'MS', help: 'least time between two reloads of one resource (default 500)' },
  { name: 'log-level', kind: 'string', placeholder: 'LEVEL', help: 'trace, debug, info, warn, error (default info)' },
  { name: 'log-format', kind: 'string', placeholder: 'FORMAT', help: 'json or text (default: text on a terminal, json otherwise)' },
  { name: 'version', kind: 'bool', help: 'print the version and exit', flagOnly: true },
  { name: 'help', kind: 'bool', help: 'print this help and exit', flagOnly: true },
];

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

export function flagDef(name: string): FlagDef | undefined {
  return BY_NAME.get(name);
}

/** Environment variable for a flag: 'client-ca-keys' → HACONFD_CLIENT_CA_KEYS. */
export function envName(flag: string): string {
  return 'HACONFD_' + flag.toUpperCase().replace(/-/g, '_');
}

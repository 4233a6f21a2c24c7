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

/**
 * confd flags haconfd does not implement. Each is accepted with its neutral value (what confd does
 * when it is not given: "" or false), so a confd command line or confd.toml that spells it out
 * still works; any other value is a configuration error giving the reason.
 */
export interface ConfdOnlyFlag {
  readonly name: string;
  readonly kind: 'bool' | 'string';
  /** Its key in confd.toml. */
  readonly tomlKey: string;
  readonly why: string;
}

const SRV = 'DNS SRV discovery of the backend is not implemented: list the members with -node';
const VAULT = 'a Vault setting; haconfd has the etcdv3 (etcd), zookeeper, file and env backends';

export const CONFD_ONLY_FLAGS: readonly ConfdOnlyFlag[] = [
  { name: 'srv-domain', kind: 'string', tomlKey: 'srv_domain', why: SRV },
  { name: 'srv-record', kind: 'string', tomlKey: 'srv_record', why: SRV },
  { name: 'client-insecure', kind: 'bool', tomlKey: 'client_insecure', why: "TLS verification cannot be turned off: give the server's CA with -client-ca-keys" },
  { name: 'auth-token', kind: 'string', tomlKey: 'auth_token', why: VAULT },
  { name: 'auth-type', kind: 'string', tomlKey: 'auth_type', why: VAULT },
  { name: 'app-id', kind: 'string', tomlKey: 'app_id', why: VAULT },
  { name: 'user-id', kind: 'string', tomlKey: 'user_id', why: VAULT },
  { name: 'role-id', kind: 'string', tomlKey: 'role_id', why: VAULT },
  { name: 'secret-id', kind: 'string', tomlKey: 'secret_id', why: VAULT },
  { name: 'path', kind: 'string', tomlKey: 'path', why: VAULT },
  { name: 'table', kind: 'string', tomlKey: 'table', why: 'a DynamoDB setting; haconfd has the etcdv3 (etcd), zookeeper, file and env backends' },
  { name: 'separator', kind: 'string', tomlKey: 'separator', why: 'a Redis setting; haconfd has the etcdv3 (etcd), zookeeper, file and env backends' },
];

const CONFD_ONLY_BY_NAME = new Map(CONFD_ONLY_FLAGS.map((f) => [f.name, f]));
const CONFD_ONLY_BY_TOML = new Map(CONFD_ONLY_FLAGS.map((f) => [f.tomlKey, f]));

export function confdOnlyFlag(name: string): ConfdOnlyFlag | undefined {
  return CONFD_ONLY_BY_NAME.get(name);
}

export function confdOnlyTomlKey(key: string): ConfdOnlyFlag | undefined {
  return CONFD_ONLY_BY_TOML.get(key);
}

const BY_NAME = new Map(FLAGS.map((f) => [f.name, f]));

export function flagDef(name: string): FlagDef | undefined {
  return BY_NAME.get(name);
}

/** Environment variable for a flag: 'client-ca-keys' → HACONFD_CLIENT_CA_KEYS. */
export function envName(flag: string): string {
  return 'HACONFD_' + flag.toUpperCase().replace(/-/g, '_');
}

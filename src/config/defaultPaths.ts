/**
 * Where the config directory and the config file are when no flag names them: confd's places
 * (/etc/confd, /etc/confd/confd.toml), with haconfd's own (/etc/haconfd, <confdir>/haconfd.toml)
 * taking part only when they exist. Pure: the file-system check is passed in.
 */
import { join } from 'node:path';

export interface DefaultPaths {
  /** haconfd's own config directory, used by default only when it exists. */
  readonly haconfdDir: string;
  /** confd's default -confdir. */
  readonly confdDir: string;
  /** confd's default -config-file: a fixed path, not relative to -confdir (confd's config.go). */
  readonly confdConfigFile: string;
}

/**
 * For tests only: HACONFD_TEST_ETC_ROOT=DIR puts the default paths under DIR instead of / (so a
 * test can exercise the defaults without touching the real /etc). Not a user setting.
 */
export const TEST_ETC_ROOT_ENV = 'HACONFD_TEST_ETC_ROOT';

export function defaultPaths(env: NodeJS.ProcessEnv): DefaultPaths {
  const root = env[TEST_ETC_ROOT_ENV] || '/';
  return {
    haconfdDir: join(root, 'etc', 'haconfd'),
    confdDir: join(root, 'etc', 'confd'),
    confdConfigFile: join(root, 'etc', 'confd', 'confd.toml'),
  };
}

export interface ConfigLocationInput {
  /** -confdir from the command line or HACONFD_CONFDIR, if given. */
  readonly confdir: string | undefined;
  /** -config-file from the command line or HACONFD_CONFIG_FILE, if given. */
  readonly configFile: string | undefined;
  readonly paths: DefaultPaths;
  readonly exists: (path: string) => boolean;
}

export interface ConfigLocation {
  /** The config directory unless the config file sets `confdir`. */
  readonly confdir: string;
  /** The config file to read, or undefined when there is none (a missing default is not an error). */
  readonly configFile: string | undefined;
  /** True when the file was named explicitly: then it must exist. */
  readonly explicit: boolean;
}

/**
 * confdir: the one given, else /etc/haconfd when that directory exists, else confd's /etc/confd.
 * Config file: the one given (it must exist), else the first that exists of <confdir>/haconfd.toml
 * and confd's /etc/confd/confd.toml, else none.
 */
export function resolveConfigLocation(input: ConfigLocationInput): ConfigLocation {
  const confdir = input.confdir ?? (input.exists(input.paths.haconfdDir) ? input.paths.haconfdDir : input.paths.confdDir);
  // confd: -config-file "" names no file at all (os.Stat("") fails, the file is skipped).
  if (input.configFile === '') return { confdir, configFile: undefined, explicit: false };
  if (input.configFile !== undefined) return { confdir, configFile: input.configFile, explicit: true };
  const candidates = [join(confdir, 'haconfd.toml'), input.paths.confdConfigFile];
  return { confdir, configFile: candidates.find((p) => input.exists(p)), explicit: false };
}

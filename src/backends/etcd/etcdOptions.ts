/**
 * The etcd options as given (-node, TLS files, -basic-auth, -connect-timeout) and their one
 * validation, shared by the etcd3-based backend (etcdConnection.ts) and the one-shot reader
 * (etcdOneShot.ts). Loads no gRPC.
 */
import { BackendConfigError } from '../backend.js';
import { loadCredentials, type Credentials, type EtcdAuth, type EtcdTlsFiles } from './etcdCredentials.js';
import { parseEtcdNodes, type EtcdEndpoint } from './etcdNodes.js';

export interface EtcdOptions {
  /** 'http://h:2379' | 'https://h:2379' | 'h:2379'; the caller applies the default ['127.0.0.1:2379']. */
  nodes: readonly string[];
  /** File paths: -client-cert, -client-key, -client-ca-keys. */
  tls?: EtcdTlsFiles;
  /** -basic-auth -username -password. */
  auth?: EtcdAuth;
  /** Bound on connecting (and on each read), over every endpoint: e.g. 5000. */
  connectTimeoutMs: number;
}

export interface ResolvedEtcdOptions {
  readonly credentials: Credentials | undefined;
  readonly endpoints: readonly EtcdEndpoint[];
  readonly auth: EtcdAuth | undefined;
  /** connectTimeoutMs, or 5000 when it was not positive. */
  readonly connectTimeoutMs: number;
}

/**
 * Reads the TLS files, parses the nodes (https when TLS files are given), checks that -basic-auth
 * has a user and applies the default timeout. Throws BackendConfigError.
 */
export function resolveEtcdOptions(opts: EtcdOptions): ResolvedEtcdOptions {
  const credentials = loadCredentials(opts.tls);
  const endpoints = parseEtcdNodes(opts.nodes, credentials !== undefined);
  if (opts.auth !== undefined && opts.auth.username === '') {
    throw new BackendConfigError('etcd: -basic-auth needs -username');
  }
  return { credentials, endpoints, auth: opts.auth, connectTimeoutMs: opts.connectTimeoutMs > 0 ? opts.connectTimeoutMs : 5000 };
}

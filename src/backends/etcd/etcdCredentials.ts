/**
 * The TLS files and credentials of the etcd backends (-client-cert, -client-key, -client-ca-keys,
 * -username/-password). Reads the PEM files; loads no gRPC, so the one-shot reader can use it.
 */
import { readFileSync } from 'node:fs';
import { BackendConfigError } from '../backend.js';

/** File paths (-client-cert, -client-key, -client-ca-keys). */
export type EtcdTlsFiles = { cert?: string; key?: string; ca?: string };
export type EtcdAuth = { username: string; password: string };

export interface Credentials {
  rootCertificate: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
}

function readTlsFile(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    throw new BackendConfigError(`etcd: cannot read ${flag} file ${path}: ${code}`);
  }
}

export function loadCredentials(tls: EtcdTlsFiles | undefined): Credentials | undefined {
  if (!tls || (tls.cert === undefined && tls.key === undefined && tls.ca === undefined)) return undefined;
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new BackendConfigError('etcd: -client-cert and -client-key must be given together');
  }
  const creds: Credentials = {
    // null: the system's trusted roots (grpc.credentials.createSsl accepts it).
    rootCertificate: tls.ca !== undefined ? readTlsFile('-client-ca-keys', tls.ca) : (null as unknown as Buffer),
  };
  if (tls.cert !== undefined && tls.key !== undefined) {
    creds.certChain = readTlsFile('-client-cert', tls.cert);
    creds.privateKey = readTlsFile('-client-key', tls.key);
  }
  return creds;
}

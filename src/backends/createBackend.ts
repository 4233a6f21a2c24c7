/** Builds the configured backend; etcd (and its gRPC stack) is only loaded when used. */
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { Backend } from './backend.js';
import type { EtcdOptions } from './etcd/etcdOptions.js';

export interface CreateBackendOptions {
  /**
   * The backend only reads, once (-onetime): etcd then uses the one-shot reader over node:http2
   * (etcdOneShot.ts), which loads no gRPC stack. Its watch() throws.
   */
  oneShot?: boolean;
}

export async function createBackend(config: Config, log: Logger, opts: CreateBackendOptions = {}): Promise<Backend> {
  switch (config.backend) {
    case 'file': {
      const { FileBackend } = await import('./file.js');
      return new FileBackend(config.files, config.fileFilter);
    }
    case 'env': {
      const { EnvBackend } = await import('./env.js');
      return new EnvBackend();
    }
    case 'zookeeper': {
      const { createZookeeperBackend } = await import('./zookeeper/zookeeper.js');
      // Persistent watches only for -watch: -interval and -onetime just read (and so work with
      // ZooKeeper older than 3.6, which has no addWatch).
      const oneShot = opts.oneShot === true || config.mode !== 'watch';
      return createZookeeperBackend({ nodes: config.nodes, connectTimeoutMs: config.connectTimeoutMs, ...(oneShot ? { oneShot: true } : {}) }, log);
    }
    case 'etcdv3': {
      const etcdOptions: EtcdOptions = {
        nodes: config.nodes,
        ...(Object.keys(config.tls).length > 0 ? { tls: config.tls } : {}),
        ...(config.auth ? { auth: config.auth } : {}),
        connectTimeoutMs: config.connectTimeoutMs,
      };
      if (opts.oneShot) {
        const { createEtcdOneShotBackend } = await import('./etcd/etcdOneShot.js');
        return createEtcdOneShotBackend(etcdOptions, log);
      }
      // Loaded by path so the gRPC stack is only paid for when etcd is used.
      const etcdModule = './etcd/etcd.js';
      const mod = (await import(etcdModule)) as { createEtcdBackend(opts: EtcdOptions, log: Logger): Promise<Backend> };
      return mod.createEtcdBackend(etcdOptions, log);
    }
  }
}

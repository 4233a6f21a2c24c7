/**
 * Runs the etcd backend in a child process — read, watch until connected, close() — and reports
 * whether that process then exits by itself (nothing left holding the event loop).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EtcdBackendOptions } from '../../src/backends/etcd/etcd.js';

/**
 * `startMs` bounds the run up to close() (module loading and connecting can take long on a loaded
 * machine); `exitMs` is how long the process may take to exit by itself once close() has returned.
 */
export async function runReadWatchClose(opts: EtcdBackendOptions, prefixes: readonly string[], exitMs = 10_000, startMs = 90_000): Promise<{ code: number | null; output: string }> {
  const etcdModule = fileURLToPath(new URL('../../src/backends/etcd/etcd.ts', import.meta.url));
  const loggerModule = fileURLToPath(new URL('../../src/log/logger.ts', import.meta.url));
  const script = `
    const { createEtcdBackend } = await import(${JSON.stringify(etcdModule)});
    const { silentLogger } = await import(${JSON.stringify(loggerModule)});
    const b = await createEtcdBackend(${JSON.stringify(opts)}, silentLogger());
    const s = await b.read(${JSON.stringify(prefixes)});
    let connected = false;
    b.watch(${JSON.stringify(prefixes)}, s.revision, { onEvents() {}, onResync() {}, onStatus(st) { if (st === 'connected') connected = true; } });
    while (!connected) await new Promise((r) => setTimeout(r, 10));
    await b.close();
    console.log('closed');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const code = await new Promise<number | null>((resolve) => {
    const kill = (): void => {
      child.kill('SIGKILL');
      resolve(null);
    };
    let t = setTimeout(kill, startMs);
    child.stdout.on('data', (d: Buffer) => {
      const before = output;
      output += d.toString();
      // close() has returned: from now on the process must exit by itself, promptly.
      if (!before.includes('closed') && output.includes('closed')) {
        clearTimeout(t);
        t = setTimeout(kill, exitMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  return { code, output };
}

/**
 * The master CLI of `haproxy -W -S <socket>`: `show proc`, `reload`, and commands forwarded to the
 * current worker with the `@1` prefix. The master does not know `set severity-output`.
 */
import { exchange, DEFAULT_SOCKET_TIMEOUT_MS } from '../runtime/socketTransport.js';
import { formatSocketAddress, parseSocketAddress, type SocketAddress } from '../runtime/socketAddress.js';
import { parseShowProc, type ProcList } from './procList.js';
import { parseShowInfo, pidOf } from '../runtime/infoList.js';
import { CommandFailedError, PermissionDeniedError } from '../runtime/runtimeErrors.js';

export class MasterClient {
  readonly address: SocketAddress;
  private readonly timeoutMs: number;

  constructor(address: SocketAddress | string, opts: { timeoutMs?: number } = {}) {
    this.address = typeof address === 'string' ? parseSocketAddress(address) : address;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS;
  }

  get where(): string {
    return formatSocketAddress(this.address);
  }

  private async run(line: string): Promise<string> {
    const reply = await exchange(this.address, line, this.timeoutMs, 'master');
    if (/^Permission denied/m.test(reply)) throw new PermissionDeniedError(this.where, line);
    if (/^Unknown command/m.test(reply)) throw new CommandFailedError(reply.trim().split('\n')[0] ?? 'Unknown command', line);
    return reply;
  }

  async showProc(): Promise<ProcList> {
    return parseShowProc(await this.run('show proc'));
  }

  /** Asks the master to reload (2.6 prints nothing; 2.7+ prints `Success=…`). Returns the raw reply. */
  async reload(): Promise<string> {
    return this.run('reload');
  }

  /** PID of the current worker as the worker itself reports it (`@1 show info`). */
  async workerPid(): Promise<number | undefined> {
    return pidOf(parseShowInfo(await this.run('@1 show info')));
  }
}

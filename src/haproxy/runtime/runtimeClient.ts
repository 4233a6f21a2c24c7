/**
 * Client for HAProxy's runtime API (stats socket). Every call is one connection: the command is
 * prefixed with `set severity-output number;` so the reply can be classified, and errors become
 * typed exceptions (NoSuchBackend, NoSuchServer, PermissionDenied, SocketMissing, Timeout).
 */
import { exchange, DEFAULT_SOCKET_TIMEOUT_MS } from './socketTransport.js';
import { formatSocketAddress, parseSocketAddress, type SocketAddress } from './socketAddress.js';
import { classifyReply, SEVERITY_PREFIX, type ClassifiedReply } from './runtimeReply.js';
import {
  CommandFailedError,
  NoSuchBackendError,
  NoSuchServerError,
  PermissionDeniedError,
} from './runtimeErrors.js';
import { assertHaproxyIdentifier } from './names.js';
import { commandLine, type RuntimeCommand } from './runtimeCommand.js';
import { parseServersState, type ActualServer } from './serversState.js';
import { parseShowStat, serverStatsOf, type ServerStat, type StatRow } from './statCsv.js';
import { parseShowInfo, type Info } from './infoList.js';
import { streamsByServer } from './sessionList.js';

export interface RuntimeClientOptions {
  timeoutMs?: number;
}

/** What a failed reply is about, so the error can name the backend/server. */
interface Target {
  backend?: string;
  server?: string;
}

export class RuntimeClient {
  readonly address: SocketAddress;
  private readonly timeoutMs: number;

  constructor(address: SocketAddress | string, opts: RuntimeClientOptions = {}) {
    this.address = typeof address === 'string' ? parseSocketAddress(address) : address;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS;
  }

  get where(): string {
    return formatSocketAddress(this.address);
  }

  /**
   * Sends one command line and returns the classified reply; throws a typed error when HAProxy
   * reports an error. Callers that build lines themselves must validate names (see names.ts).
   */
  async send(line: string, target: Target = {}): Promise<ClassifiedReply> {
    const raw = await exchange(this.address, `${SEVERITY_PREFIX}; ${line}`, this.timeoutMs);
    const reply = classifyReply(raw);
    if (reply.severity === 'error') throw this.errorOf(reply, line, target);
    return reply;
  }

  /** Applies one server command (its line may hold several `;`-joined commands). */
  async apply(cmd: RuntimeCommand): Promise<ClassifiedReply> {
    return this.send(commandLine(cmd), { backend: cmd.backend, server: cmd.server });
  }

  async showServersState(backend?: string): Promise<ActualServer[]> {
    const line = backend === undefined ? 'show servers state' : `show servers state ${assertHaproxyIdentifier('backend', backend)}`;
    const reply = await this.send(line, backend === undefined ? {} : { backend });
    return [...parseServersState(reply.body).servers];
  }

  /** The raw `show servers state` text (what a server-state file holds). */
  async dumpServersState(): Promise<string> {
    return (await this.send('show servers state')).body;
  }

  async showStatRows(): Promise<StatRow[]> {
    return parseShowStat((await this.send('show stat')).body);
  }

  async showServerStats(): Promise<ServerStat[]> {
    return serverStatsOf(await this.showStatRows());
  }

  /** backend/server → streams pointing at it (`show sess`; its size grows with the open sessions). */
  async streamsByServer(): Promise<Map<string, number>> {
    return streamsByServer((await this.send('show sess')).body);
  }

  async showInfo(): Promise<Info> {
    return parseShowInfo((await this.send('show info')).body);
  }

  private errorOf(reply: ClassifiedReply, line: string, target: Target): Error {
    const msg = reply.messages.find((m) => m.severity === 'error');
    const text = msg?.text ?? reply.body.trim();
    if (/Permission denied/i.test(text)) return new PermissionDeniedError(this.where, line);
    if (/No such backend|Can't find backend/i.test(text)) return new NoSuchBackendError(target.backend ?? backendOf(line), line);
    if (/No such server/i.test(text)) {
      return new NoSuchServerError(target.backend ?? backendOf(line), target.server ?? serverOf(line), line);
    }
    return new CommandFailedError(text, line);
  }
}

const REF = /\b([A-Za-z0-9_.:-]+)\/([A-Za-z0-9_.:-]+)\b/;
function backendOf(line: string): string {
  return REF.exec(line)?.[1] ?? '?';
}
function serverOf(line: string): string {
  return REF.exec(line)?.[2] ?? '?';
}

/**
 * Parser for `show servers state` (format version 1, 25 columns) and the typed server state it
 * implies. Pure.
 *
 * op_state: 0 down, 1 starting, 2 up, 3 stopping (NOLB).
 * admin_state bits: 0x01 forced maint, 0x02 inherited maint, 0x04 config maint (`disabled`),
 * 0x08 forced drain, 0x10 inherited drain, 0x20 DNS maint.
 */

export const SERVERS_STATE_COLUMNS = [
  'be_id', 'be_name', 'srv_id', 'srv_name', 'srv_addr', 'srv_op_state', 'srv_admin_state', 'srv_uweight',
  'srv_iweight', 'srv_time_since_last_change', 'srv_check_status', 'srv_check_result', 'srv_check_health',
  'srv_check_state', 'srv_agent_state', 'bk_f_forced_id', 'srv_f_forced_id', 'srv_fqdn', 'srv_port',
  'srvrecord', 'srv_use_ssl', 'srv_check_port', 'srv_check_addr', 'srv_agent_addr', 'srv_agent_port',
] as const;

export type OpState = 'down' | 'starting' | 'up' | 'stopping';
export type MaintSource = 'forced' | 'inherited' | 'config' | 'dns';
export type DrainSource = 'forced' | 'inherited';

export interface AdminState {
  readonly maint: readonly MaintSource[];
  readonly drain: readonly DrainSource[];
}

/** One summary word: what an operator would call the server's state. */
export type ServerStateName = 'maint' | 'drain' | 'up' | 'down' | 'starting' | 'stopping';

export interface ActualServer {
  readonly backendId: number;
  readonly backend: string;
  readonly serverId: number;
  readonly server: string;
  readonly addr: string;
  readonly port: number;
  readonly opState: OpState;
  readonly opStateCode: number;
  readonly admin: AdminState;
  readonly adminStateCode: number;
  readonly userWeight: number;
  readonly initialWeight: number;
  readonly secondsSinceChange: number;
  readonly checkPort: number;
  readonly fqdn: string | undefined;
  /** The raw line, as HAProxy wrote it (what goes into a server-state file). */
  readonly line: string;
}

export interface ServersState {
  readonly version: number;
  readonly servers: readonly ActualServer[];
}

export class ServersStateParseError extends Error {
  override readonly name = 'ServersStateParseError';
}

const OP_STATES: Record<number, OpState> = { 0: 'down', 1: 'starting', 2: 'up', 3: 'stopping' };

export function decodeAdminState(code: number): AdminState {
  const maint: MaintSource[] = [];
  const drain: DrainSource[] = [];
  if (code & 0x01) maint.push('forced');
  if (code & 0x02) maint.push('inherited');
  if (code & 0x04) maint.push('config');
  if (code & 0x20) maint.push('dns');
  if (code & 0x08) drain.push('forced');
  if (code & 0x10) drain.push('inherited');
  return { maint, drain };
}

export function decodeOpState(code: number): OpState {
  const s = OP_STATES[code];
  if (s === undefined) throw new ServersStateParseError(`unknown srv_op_state ${code}`);
  return s;
}

/** Maint wins over drain; otherwise the operational state. */
export function stateNameOf(s: Pick<ActualServer, 'admin' | 'opState'>): ServerStateName {
  if (s.admin.maint.length > 0) return 'maint';
  if (s.admin.drain.length > 0) return 'drain';
  return s.opState;
}

function int(field: string | undefined, col: string, lineNo: number): number {
  const n = Number(field);
  if (field === undefined || field === '' || !Number.isInteger(n)) {
    throw new ServersStateParseError(`show servers state line ${lineNo}: column ${col} is not an integer: ${JSON.stringify(field)}`);
  }
  return n;
}

/**
 * Parses the whole reply (or a server-state file). Blank lines are ignored; the first non-blank
 * line must be the version `1`; `#` lines are headers.
 */
export function parseServersState(text: string): ServersState {
  const lines = text.split('\n');
  let version: number | undefined;
  const servers: ActualServer[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const lineNo = i + 1;
    if (line === '' || line.startsWith('#')) return;
    if (version === undefined) {
      version = int(line, 'version', lineNo);
      if (version !== 1) throw new ServersStateParseError(`unsupported show servers state format version ${version} (expected 1)`);
      return;
    }
    const f = line.split(/\s+/);
    if (f.length < 19) {
      throw new ServersStateParseError(`show servers state line ${lineNo}: expected 25 columns, got ${f.length}: ${line}`);
    }
    const adminCode = int(f[6], 'srv_admin_state', lineNo);
    const opCode = int(f[5], 'srv_op_state', lineNo);
    servers.push({
      backendId: int(f[0], 'be_id', lineNo),
      backend: f[1] as string,
      serverId: int(f[2], 'srv_id', lineNo),
      server: f[3] as string,
      addr: f[4] as string,
      opStateCode: opCode,
      opState: decodeOpState(opCode),
      adminStateCode: adminCode,
      admin: decodeAdminState(adminCode),
      userWeight: int(f[7], 'srv_uweight', lineNo),
      initialWeight: int(f[8], 'srv_iweight', lineNo),
      secondsSinceChange: int(f[9], 'srv_time_since_last_change', lineNo),
      fqdn: f[17] === '-' ? undefined : f[17],
      port: int(f[18], 'srv_port', lineNo),
      checkPort: f[21] === undefined ? 0 : int(f[21], 'srv_check_port', lineNo),
      line,
    });
  });
  if (version === undefined) throw new ServersStateParseError('show servers state: empty reply (no format version line)');
  return { version, servers };
}

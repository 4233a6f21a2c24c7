/**
 * Patroni's `failover` key: written when a switchover (or failover) is requested, before the leader
 * demotes — `{"leader": "pg1", "member": "pg2"[, "scheduled_at": "2026-12-06T10:00:00+00:00"]}` —
 * and emptied to `{}` (Patroni 3.0) or deleted once it is done, cancelled or refused. Pure.
 */

/** A request as Patroni wrote it. */
export interface SwitchoverRequest {
  /** The member the request expects to be leader (`leader`), null when it names none (a failover). */
  readonly leader: string | null;
  /** The requested new leader (`member`), null when Patroni may choose. */
  readonly candidate: string | null;
  /** When it is due (epoch ms), null for "now". */
  readonly scheduledAt: number | null;
}

export type SwitchoverRequestParse =
  | { readonly kind: 'none' }
  | { readonly kind: 'request'; readonly request: SwitchoverRequest }
  | { readonly kind: 'malformed'; readonly reason: string };

const NONE: SwitchoverRequestParse = { kind: 'none' };

function optionalName(o: Record<string, unknown>, field: string): string | null | undefined {
  const v = o[field];
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'string' ? v : undefined;
}

/** Parses the `failover` key's value (undefined when the key is absent). */
export function parseSwitchoverRequest(value: string | undefined): SwitchoverRequestParse {
  if (value === undefined || value.trim() === '') return NONE;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { kind: 'malformed', reason: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length === 0) return NONE;
  const leader = optionalName(o, 'leader');
  if (leader === undefined) return { kind: 'malformed', reason: '"leader" is not a string' };
  const candidate = optionalName(o, 'member');
  if (candidate === undefined) return { kind: 'malformed', reason: '"member" is not a string' };
  let scheduledAt: number | null = null;
  const at = o['scheduled_at'];
  if (at !== undefined && at !== null && at !== '') {
    const t = typeof at === 'string' ? Date.parse(at) : NaN;
    if (!Number.isFinite(t)) return { kind: 'malformed', reason: '"scheduled_at" is not an ISO 8601 time' };
    scheduledAt = t;
  }
  if (leader === null && candidate === null) return { kind: 'malformed', reason: 'names neither "leader" nor "member"' };
  return { kind: 'request', request: { leader, candidate, scheduledAt } };
}

/**
 * True when the request is about to take `leader` away: it names that member as `leader` and is due
 * (no `scheduled_at`, or one that has come). A request naming another member, or a future one,
 * changes nothing.
 */
export function switchoverDue(request: SwitchoverRequest, leader: string | null, now: number): boolean {
  return leader !== null && request.leader === leader && request.candidate !== leader && (request.scheduledAt === null || request.scheduledAt <= now);
}

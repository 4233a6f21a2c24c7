/**
 * The runtime-socket commands of the write listens' hold (templates/haconfd-hold.lua): the lines
 * haconfd sends and the parsing of `haconfd holds`. Pure; names are validated so no value can add
 * a command.
 */
import { assertHaproxyIdentifier } from './names.js';

/** Longest hold request the Lua accepts (ms). */
export const MAX_HOLD_REQUEST_MS = 3_600_000;

/** `haconfd hold <listen> <ms>`: hold new connections to `listen` for at most `ms`. */
export function holdRequestLine(listen: string, ms: number): string {
  if (!Number.isInteger(ms) || ms < 1 || ms > MAX_HOLD_REQUEST_MS) throw new RangeError(`hold request of ${ms} ms: must be 1..${MAX_HOLD_REQUEST_MS}`);
  return `haconfd hold ${assertHaproxyIdentifier('proxy', listen)} ${ms}`;
}

/** `haconfd release <listen>`: end the request now. */
export function holdReleaseLine(listen: string): string {
  return `haconfd release ${assertHaproxyIdentifier('proxy', listen)}`;
}

export const HOLDS_LINE = 'haconfd holds';

/** One write listen's hold counters, as `haconfd holds` prints them. */
export interface HoldStatus {
  readonly listen: string;
  /** Connections that had to wait. */
  readonly held: number;
  /** Routed after waiting. */
  readonly released: number;
  /** Let go after hold_timeout. */
  readonly timedOut: number;
  /** The client left while held. */
  readonly abandoned: number;
  /** Total time those connections waited (ms). */
  readonly waitMs: number;
  /** What is left of haconfd's hold request (ms), 0 when there is none. */
  readonly requestedMs: number;
}

const LINE = /^(\S+) held (\d+) released (\d+) timed_out (\d+) abandoned (\d+) wait_ms (\d+) requested_ms (\d+)$/;

/** True when a reply says the command is not there (HAProxy without haconfd-hold.lua loaded). */
export function isUnknownHoldCommand(reply: string): boolean {
  return /Unknown command|unknown keyword/i.test(reply);
}

/** Parses `haconfd holds`; throws on a line it does not understand (an older or foreign script). */
export function parseHolds(text: string): HoldStatus[] {
  const out: HoldStatus[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`unexpected line from 'haconfd holds': ${JSON.stringify(line.slice(0, 200))}`);
    out.push({
      listen: m[1] as string,
      held: Number(m[2]),
      released: Number(m[3]),
      timedOut: Number(m[4]),
      abandoned: Number(m[5]),
      waitMs: Number(m[6]),
      requestedMs: Number(m[7]),
    });
  }
  return out;
}

/** The error line the Lua answers with (`error: …`), or undefined on success. */
export function holdReplyError(reply: string): string | undefined {
  if (isUnknownHoldCommand(reply)) return 'HAProxy has no haconfd hold commands (haconfd-hold.lua is not loaded)';
  const m = /^error: (.*)$/m.exec(reply);
  return m ? (m[1] as string) : undefined;
}

/** Connections a listen holds right now: those that had to wait and have not been let go yet. */
export function stillHeld(h: HoldStatus): number {
  return Math.max(0, h.held - h.released - h.timedOut - h.abandoned);
}

/** Durations in resource files: "250ms", "30s", "2m", "1h", or a bare number of seconds. */
export function parseDuration(raw: unknown, what: string): number {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw >= 0) return Math.round(raw * 1000);
  if (typeof raw === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    if (m) {
      const n = Number(m[1]);
      const unit = m[2] ?? 's';
      const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
      return Math.round(n * factor);
    }
  }
  throw new Error(`${what}: invalid duration ${JSON.stringify(raw)} (use e.g. "500ms", "30s", "2m")`);
}

export interface WaitSpec {
  readonly minMs: number;
  readonly maxMs: number;
}

/** consul-template's quiescence: "min:max" ("100ms:1s"), "min" (max = 4 × min), or {min, max}. */
export function parseWait(raw: unknown): WaitSpec {
  let minRaw: unknown;
  let maxRaw: unknown;
  if (typeof raw === 'string') {
    const parts = raw.split(':');
    if (parts.length > 2) throw new Error(`wait: expected "min:max", got ${JSON.stringify(raw)}`);
    [minRaw, maxRaw] = parts;
  } else if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== 'min' && k !== 'max');
    if (extra.length > 0) throw new Error(`wait: unknown key "${extra[0]}" (expected min and max)`);
    minRaw = o['min'];
    maxRaw = o['max'];
  } else {
    throw new Error(`wait: expected "min:max", got ${JSON.stringify(raw)}`);
  }
  const minMs = parseDuration(minRaw, 'wait min');
  const maxMs = maxRaw === undefined ? minMs * 4 : parseDuration(maxRaw, 'wait max');
  if (maxMs < minMs) throw new Error(`wait: max (${maxMs} ms) is shorter than min (${minMs} ms)`);
  return { minMs, maxMs };
}

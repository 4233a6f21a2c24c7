/** Parser for `show info` (`Key: value` lines). Pure. */

export type Info = Readonly<Record<string, string>>;

export function parseShowInfo(text: string): Info {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i).trim();
    if (key === '' || /\s/.test(key)) continue;
    out[key] = line.slice(i + 1).trim();
  }
  return out;
}

/** The worker PID from `show info` (`Pid:`), or undefined. */
export function pidOf(info: Info): number | undefined {
  const n = Number(info['Pid']);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

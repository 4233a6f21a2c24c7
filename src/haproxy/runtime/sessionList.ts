/**
 * Parser for `show sess`: how many streams point at each server. Pure.
 *
 * One line per stream, as HAProxy 2.6 prints it:
 *   0x55cbebb7bdb0: proto=tcpv4 src=127.0.0.1:47268 fe=x be=x srv=s1 ts=00 epoch=0 age=0s …
 * `srv=` is the stream's target server — set while the stream is connected, connecting, or waiting
 * to retry its connection (`retries`), which `show stat`'s current sessions do not count. Streams
 * with no server (`srv=<none>`: the CLI's own, or one still held before a server was chosen) and
 * lines that are not streams are skipped.
 */
import { serverKey } from './names.js';

const STREAM_LINE = /^0x[0-9a-f]+: .*? be=(\S+) srv=(\S+) /;

/** backend/server → streams pointing at it. */
export function streamsByServer(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = STREAM_LINE.exec(line);
    if (!m) continue;
    const [, backend, server] = m as unknown as [string, string, string];
    if (server === '<none>' || backend === '<NONE>') continue;
    const key = serverKey(backend, server);
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

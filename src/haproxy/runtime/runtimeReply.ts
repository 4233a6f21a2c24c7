/**
 * Classifies a runtime API reply produced with `set severity-output number`: each message is
 * prefixed `[N]: ` (syslog severity: 0–3 error, 4 warning, 5–7 info); an empty reply is success.
 * Pure.
 */

export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface ReplyMessage {
  readonly severity: Exclude<Severity, 'ok'>;
  readonly code: number;
  /** The message text (first line without the prefix, plus any continuation lines). */
  readonly text: string;
}

export interface ClassifiedReply {
  /** The worst severity seen; `ok` when no prefixed message. */
  readonly severity: Severity;
  readonly messages: readonly ReplyMessage[];
  /** The reply with the leading empty answer of `set severity-output number` removed. */
  readonly body: string;
}

export const SEVERITY_PREFIX = 'set severity-output number';

const RANK: Record<Severity, number> = { ok: 0, info: 1, warning: 2, error: 3 };

function severityOf(code: number): Exclude<Severity, 'ok'> {
  if (code <= 3) return 'error';
  if (code === 4) return 'warning';
  return 'info';
}

export function classifyReply(raw: string): ClassifiedReply {
  const body = raw.replace(/^\n/, '');
  const messages: ReplyMessage[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\[(\d)\]: ?(.*)$/.exec(lines[i] as string);
    if (!m) continue;
    const code = Number(m[1]);
    const text: string[] = [m[2] as string];
    while (i + 1 < lines.length && lines[i + 1] !== '' && !/^\[\d\]: /.test(lines[i + 1] as string)) {
      text.push(lines[++i] as string);
    }
    let severity = severityOf(code);
    // HAProxy 2.6 reports an unknown command at info level; it is a failure of the command.
    if (/^Unknown command/.test(m[2] as string)) severity = 'error';
    messages.push({ severity, code, text: text.join('\n').trim() });
  }
  // Without severity output (or on a reply that ignored it) a bare "Permission denied" is an error too.
  if (messages.length === 0 && /^(Permission denied|Unknown command)/m.test(body)) {
    messages.push({ severity: 'error', code: 3, text: body.trim() });
  }
  let severity: Severity = 'ok';
  for (const msg of messages) if (RANK[msg.severity] > RANK[severity]) severity = msg.severity;
  return { severity, messages, body };
}

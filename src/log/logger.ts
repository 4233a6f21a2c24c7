/**
 * The process logger (pino): one JSON line per event, or a readable text line when stderr is a
 * terminal or `-log-format text` is given. Secrets are redacted by path.
 */
import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { Writable } from 'node:stream';

export type Logger = PinoLogger;
export type LogFormat = 'json' | 'text';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Keys whose values never reach a log line. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'auth.password',
  'config.password',
  'config.auth.password',
  'authorization',
  '*.authorization',
];

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stderr by default. */
  destination?: NodeJS.WritableStream;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * Formats one pino JSON record as `time LEVEL msg key=value …`. A string field that spans lines (a
 * unified diff, a checker's stderr) is printed after that line as the real lines it holds, and the
 * header says where (`diff=(below)`), so a `-noop` diff reads (and pipes into `patch`) as a diff.
 * Exported for tests.
 */
export function formatTextLine(record: Record<string, unknown>): string {
  const { time, level, msg, pid: _pid, hostname: _host, ...rest } = record;
  const t = typeof time === 'number' ? new Date(time).toISOString() : '';
  const lv = typeof level === 'number' ? (LEVEL_NAMES[level] ?? String(level)) : String(level);
  const blocks: string[] = [];
  const fields = Object.entries(rest)
    .map(([k, v]) => {
      if (typeof v === 'string' && v.includes('\n')) {
        blocks.push(v.endsWith('\n') ? v : v + '\n');
        return `${k}=(below)`;
      }
      return `${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`;
    })
    .join(' ');
  return `${t} ${lv.padEnd(5)} ${String(msg ?? '')}${fields ? ' ' + fields : ''}\n${blocks.join('')}`;
}

function textStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          out.write(formatTextLine(JSON.parse(line) as Record<string, unknown>));
        } catch {
          out.write(line + '\n');
        }
      }
      cb();
    },
  });
}

export function createLogger(opts: LoggerOptions): Logger {
  const out = opts.destination ?? process.stderr;
  const stream = opts.format === 'text' ? textStream(out) : out;
  return pino(
    {
      level: opts.level as LevelWithSilent,
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.epochTime,
    },
    stream as pino.DestinationStream,
  );
}

/** The default format: text on a terminal, JSON otherwise. */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'text' : 'json';
}

/** A logger that drops everything, for library callers and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

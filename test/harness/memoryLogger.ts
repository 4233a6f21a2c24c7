/** A real pino logger whose JSON lines are kept in memory, for tests that assert on log output. */
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/log/logger.js';

export interface MemoryLogger {
  readonly log: Logger;
  /** Every line logged so far (a live array). */
  readonly lines: string[];
  /** The same lines as one text. */
  text(): string;
}

export function memoryLogger(level: LogLevel = 'trace'): MemoryLogger {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { log: createLogger({ level, format: 'json', destination }), lines, text: () => lines.join('\n') };
}

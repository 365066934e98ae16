import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Bound into every line, e.g. { role: 'daemon' }. */
  base?: Record<string, unknown>;
}

/** JSON lines to stdout; `pretty` is for people at a terminal (pino-pretty, synchronous). */
export function createLogger(options: LoggerOptions): Logger {
  const base = { pid: process.pid, ...options.base };
  if (options.format === 'pretty') {
    return pino({ level: options.level, base, transport: { target: 'pino-pretty', options: { sync: true } } });
  }
  return pino({ level: options.level, base, timestamp: pino.stdTimeFunctions.isoTime });
}

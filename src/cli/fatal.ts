import type { Logger } from '../shared/telemetry/logger.js';
import { debugRequested } from '../shared/config/debug-flag.js';

/**
 * A role that cannot start says why in one plain sentence on stderr, for the person at the
 * terminal or reading `journalctl`; the JSON log line follows on stdout for log pipelines.
 * The stack trace is only for `--debug` / `BITVILLE_DEBUG=1`: a missing token is not a bug.
 */
export function reportStartFailure(role: string, err: unknown, log: Logger | null): void {
  const message = plainMessage(err);
  const debug = debugRequested();
  process.stderr.write(`bitville-apm ${role}: ${message}\n${debug && err instanceof Error && err.stack ? `${err.stack}\n` : ''}`);
  log?.fatal(debug ? { err } : { error: message }, `${role} failed to start: ${message}`);
}

/**
 * Our own start errors are written as sentences: their first line is used. Node's system errors
 * (`EEXIST: file already exists, mkdir '/etc/passwd'`) are rephrased from their code, syscall
 * and path, so the person reads what could not be done and where.
 */
export function plainMessage(err: unknown): string {
  const sys = err as Partial<NodeJS.ErrnoException>;
  if (err instanceof Error && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    const what = SYSCALLS[sys.syscall] ?? sys.syscall;
    const net = err as { address?: unknown; port?: unknown };
    const where = sys.path ?? (typeof net.address === 'string' ? `${net.address}${typeof net.port === 'number' ? `:${net.port}` : ''}` : '');
    const why = CODES[sys.code] ?? sys.code;
    return `cannot ${what}${where ? ` ${where}` : ''}: ${why} (${sys.code})`;
  }
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.trim() || 'unknown error';
}

const SYSCALLS: Record<string, string> = {
  mkdir: 'create the directory',
  open: 'open',
  rename: 'rename',
  unlink: 'remove',
  chmod: 'change the mode of',
  bind: 'listen on',
  listen: 'listen on',
  connect: 'connect to',
  scandir: 'list',
};

const CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'a file is in the way',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not on this machine',
};

import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { formatOfFile, type LogEntry, type LogFormat, type LogParser } from './log-entry.js';
import { createStderrParser } from './stderr-parser.js';
import { createCsvParser, createJsonParser } from './structured-parsers.js';

export interface LogTailerOptions {
  /** A log file, or the server's log directory (its newest file is followed, then each newer one in name order). */
  path: string;
  format: 'auto' | LogFormat;
  onEntries: (entries: LogEntry[], file: string) => void;
  onBadLine?: () => void;
}

export interface LogTailer {
  /** Reads what is new; call it every logs.pollMs. Resolves when caught up (or after `maxBytes`). */
  poll(maxBytes?: number): Promise<void>;
  stats(): { file: string | null; offset: number; bytesRead: number; rotations: number; truncations: number };
  stop(): Promise<void>;
}

const CHUNK = 256 * 1024;

/**
 * Follows the server log like `tail -F`: starts at the end of the current file, keeps reading as it
 * grows, finishes a rotated file before moving to its successor (logging_collector's new file in
 * the directory, or logrotate's new file under the same name), and starts over when the file was
 * truncated. Polling with stat is used rather than fs.watch, which misses events on some
 * filesystems; one stat per poll is cheap.
 */
export function createLogTailer(o: LogTailerOptions): LogTailer {
  let fh: FileHandle | null = null;
  let file: string | null = null;
  let ino = 0;
  let offset = 0;
  let parser: LogParser | null = null;
  let decoder = new StringDecoder('utf8');
  let format: LogFormat | null = o.format === 'auto' ? null : o.format;
  let first = true;
  let isDir: boolean | null = null;
  const s = { bytesRead: 0, rotations: 0, truncations: 0 };

  function parserFor(f: LogFormat): LogParser {
    return f === 'csvlog' ? createCsvParser() : f === 'jsonlog' ? createJsonParser(o.onBadLine) : createStderrParser();
  }

  /** The file to follow now: the path itself, or in a directory the newest of the chosen format. */
  async function candidates(): Promise<string[]> {
    if (isDir === null) isDir = (await stat(o.path)).isDirectory();
    if (!isDir) return [o.path];
    const names = (await readdir(o.path)).filter((n) => !n.startsWith('.'));
    if (format === null) {
      // Structured formats first when the server writes several at once (log_destination = 'stderr,csvlog').
      format = (['jsonlog', 'csvlog', 'stderr'] as const).find((f) => names.some((n) => formatOfFile(n) === f)) ?? null;
      if (format === null) return [];
    }
    const wanted = format;
    // stderr files are whatever log_filename makes them (usually *.log); csvlog/jsonlog swap the suffix for .csv/.json.
    return names.filter((n) => formatOfFile(n) === wanted).sort().map((n) => join(o.path, n));
  }

  async function openFile(path: string, atEnd: boolean): Promise<void> {
    const h = await open(path, 'r');
    const st = await h.stat();
    fh = h;
    file = path;
    ino = st.ino;
    offset = atEnd ? st.size : 0;
    parser = parserFor(format ?? formatOfFile(path));
    decoder = new StringDecoder('utf8');
  }

  async function closeFile(): Promise<void> {
    if (parser && file) emit(parser.end(), file);
    const h = fh;
    fh = null;
    parser = null;
    if (h) await h.close().catch(() => undefined);
  }

  function emit(entries: LogEntry[], from: string): void {
    if (entries.length > 0) o.onEntries(entries, from);
  }

  /** Reads from the open file to its end (or `budget` bytes); returns how many bytes came. */
  async function drain(budget: number): Promise<number> {
    if (!fh || !parser || !file) return 0;
    const st = await fh.stat();
    if (st.size < offset) {
      s.truncations++; // copytruncate-style rotation, or `> file`: what is there now is new
      emit(parser.end(), file);
      parser = parserFor(format ?? formatOfFile(file));
      decoder = new StringDecoder('utf8');
      offset = 0;
    }
    let got = 0;
    const buf = Buffer.allocUnsafe(CHUNK);
    while (got < budget) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
      got += bytesRead;
      emit(parser.push(decoder.write(buf.subarray(0, bytesRead))), file); // keeps a character cut at the chunk's end
    }
    s.bytesRead += got;
    return got;
  }

  return {
    async poll(maxBytes = 8 * 1024 * 1024) {
      const list = await candidates().catch(() => []);
      if (!fh) {
        const latest = list[list.length - 1];
        if (!latest) return;
        await openFile(latest, first); // history before the agent started is not replayed
        first = false;
      }
      first = false;
      let got = await drain(maxBytes);
      // Rotation: move on only once the current file is read to its end, so no line is lost.
      for (;;) {
        if (got >= maxBytes || !file) return;
        const next = isDir ? list.find((p) => p > (file as string)) : await stat(o.path).then((st) => (st.ino !== ino ? o.path : undefined), () => undefined);
        if (!next) {
          if (got === 0 && parser) emit(parser.idle(), file);
          return;
        }
        await drain(maxBytes - got); // what the server wrote before switching files
        await closeFile();
        s.rotations++;
        await openFile(next, false);
        got += await drain(maxBytes - got);
      }
    },
    stats: () => ({ file, offset, ...s }),
    async stop() {
      await closeFile();
    },
  };
}

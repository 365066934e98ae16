import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStderrParser } from './stderr-parser.js';
import { createCsvParser, createJsonParser } from './structured-parsers.js';
import { classify } from './log-events.js';
import type { LogEntry, LogParser } from './log-entry.js';

/** Feeds `text` in pieces of `size` characters, as reads from a growing file would. */
function feed(parser: LogParser, text: string, size: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
  return [...out, ...parser.end()];
}

const STDERR = [
  '2026-12-01 21:47:54.123 UTC [4411] app=bitville-3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10 ERROR:  deadlock detected',
  '2026-12-01 21:47:54.123 UTC [4411] app=bitville-3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10 DETAIL:  Process 4411 waits for ShareLock on transaction 7; blocked by process 4412.',
  '\tProcess 4412 waits for ShareLock on transaction 8; blocked by process 4411.',
  '\tProcess 4411: UPDATE dl SET v = 1',
  '\t  WHERE id = 2',
  '\tProcess 4412: UPDATE dl SET v = 1 WHERE id = 1',
  '2026-12-01 21:47:54.123 UTC [4411] app=bitville-3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10 HINT:  See server log for query details.',
  '2026-12-01 21:47:54.123 UTC [4411] app=bitville-3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10 STATEMENT:  UPDATE dl SET v = 1',
  '\t  WHERE id = 2',
  '2026-12-01 21:47:55.001 UTC [4413] app=psql LOG:  duration: 1204.511 ms  statement: SELECT pg_sleep(1.2)',
  '2026-12-01 21:47:55.002 UTC [4414] app= LOG:  checkpoint starting: time',
  '',
].join('\n');

test('stderr: a message with tab continuations and its DETAIL/STATEMENT lines is one entry, however the reads are cut', () => {
  for (const size of [7, 64, STDERR.length]) {
    const entries = feed(createStderrParser(), STDERR, size);
    assert.equal(entries.length, 3, `chunk ${size}`);
    const dl = classify(entries[0] as LogEntry);
    assert.equal(dl?.kind, 'deadlock');
    assert.equal(dl?.pid, 4411);
    assert.equal(dl?.correlation_id, '3f1c2a9e-6b7d-4e2f-9a1b-0c5d7e8f9a10');
    assert.equal(dl?.statement, 'UPDATE dl SET v = 1\n  WHERE id = 2');
    assert.deepEqual(dl?.processes?.map((p) => [p.pid, p.statement, p.blocked_by]), [[4411, 'UPDATE dl SET v = 1\n  WHERE id = 2', 4412], [4412, 'UPDATE dl SET v = 1 WHERE id = 1', 4411]]);
    const slow = classify(entries[1] as LogEntry);
    assert.deepEqual([slow?.kind, slow?.duration_ms, slow?.statement, slow?.application_name], ['slow_statement', 1204.511, 'SELECT pg_sleep(1.2)', 'psql']);
    assert.equal(classify(entries[2] as LogEntry), null, 'a checkpoint is not an event');
  }
});

test('stderr: idle() completes the open message but keeps a half-written line for the next read', () => {
  const p = createStderrParser();
  assert.deepEqual(p.push('2026-12-01 21:47:55.001 UTC [1] LOG:  duration: 5 ms  statement: SELECT 1\n2026-12-01 21:4'), []);
  assert.equal(p.idle()[0]?.message, 'duration: 5 ms  statement: SELECT 1');
  const rest = [...p.push('7:56 UTC [2] ERROR:  boom\n'), ...p.end()];
  assert.deepEqual(rest.map((e) => [e.pid, e.severity, e.message]), [[2, 'ERROR', 'boom']]);
});

test('csvlog: quoted fields with commas, doubled quotes and newlines, split anywhere', () => {
  const row = (severity: string, message: string, detail: string, query: string, app: string) =>
    `2026-12-01 21:47:54.123 UTC,"root","postgres",4411,"[local]",6752f1aa.113b,3,"UPDATE",2026-12-01 21:47:50 UTC,3/12,725,${severity},40P01,"${message}","${detail}",,,,"while updating tuple (0,1) in relation ""dl""","${query}",,,"${app}","client backend",,0\n`;
  const text = row('ERROR', 'deadlock detected', 'Process 4411 waits for ShareLock on transaction 7; blocked by process 4412.\nProcess 4412 waits for ShareLock on transaction 8; blocked by process 4411.\nProcess 4411: UPDATE dl SET note = ""a, b"" WHERE id = 2\nProcess 4412: UPDATE dl SET v = 1 WHERE id = 1', 'UPDATE dl SET note = ""a, b"" WHERE id = 2', 'shop') + row('LOG', 'duration: 3.5 ms  statement: SELECT 1', '', '', 'x');
  for (const size of [1, 5, 100, text.length]) {
    const entries = feed(createCsvParser(), text, size);
    assert.equal(entries.length, 2, `chunk ${size}`);
    const dl = classify(entries[0] as LogEntry);
    assert.equal(dl?.statement, 'UPDATE dl SET note = "a, b" WHERE id = 2');
    assert.equal(dl?.sqlstate, '40P01');
    assert.equal(entries[0]?.context, 'while updating tuple (0,1) in relation "dl"');
    assert.deepEqual(dl?.processes?.map((p) => p.statement), ['UPDATE dl SET note = "a, b" WHERE id = 2', 'UPDATE dl SET v = 1 WHERE id = 1']);
    assert.equal(classify(entries[1] as LogEntry)?.duration_ms, 3.5);
  }
});

test('jsonlog: one object per line; a line that is not JSON is counted and skipped', () => {
  let bad = 0;
  const text = '{"timestamp":"2026-12-01 21:47:54.123 UTC","pid":9,"error_severity":"LOG","message":"process 9 still waiting for ShareLock on transaction 725 after 300.4 ms","detail":"Process holding the lock: 8. Wait queue: 9.","statement":"/*bitville_id=\'abc-1\',traceparent=\'00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\'*/ UPDATE t SET a = 1","application_name":"bitville-abc-1"}\nnot json\n';
  const entries = feed(createJsonParser(() => bad++), text, 13);
  assert.equal(bad, 1);
  const ev = classify(entries[0] as LogEntry);
  assert.deepEqual([ev?.kind, ev?.duration_ms, ev?.holder_pids, ev?.correlation_id], ['lock_wait', 300.4, [8], 'abc-1']);
});

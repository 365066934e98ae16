import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { logFiles, postgresMissing, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { spawnPgAgent, startRecordSink, type AgentRecordSeen, type RecordSink } from '../helpers/pg-agent-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { freePort, spawnListener } from '../helpers/listener-process.js';
import { createCsvParser } from '../../src/pg-agent/logs/structured-parsers.js';
import { createStderrParser } from '../../src/pg-agent/logs/stderr-parser.js';
import { classify, type LogEvent } from '../../src/pg-agent/logs/log-events.js';
import type { LogParser } from '../../src/pg-agent/logs/log-entry.js';

const missing = postgresMissing();

describe('pg-agent collectors against a private PostgreSQL', { skip: missing }, () => {
  let pgs: PrivatePostgres;
  let dir: string;
  let sink: RecordSink;

  before(async () => {
    pgs = startPrivatePostgres();
    dir = mkdtempSync(join(tmpdir(), 'bitville-pga-'));
    sink = await startRecordSink(join(dir, 'daemon.sock'));
    await pgs.sql('CREATE EXTENSION pg_stat_statements');
    await pgs.sql('CREATE DATABASE noext');
    await pgs.sql('CREATE TABLE dl (id int PRIMARY KEY, v int NOT NULL); INSERT INTO dl VALUES (1, 0), (2, 0)');
  });
  after(async () => {
    await sink.stop();
    pgs.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const agentConfig = (extra: Record<string, unknown>) => ({ database: pgs.url(), project: 'pgtest', send: { socket: sink.path, flushIntervalMs: 100 }, ...extra });
  const events = (kind: string): LogEvent[] => sink.records('pg_log').flatMap((r) => (r.data.events as LogEvent[]).filter((e) => e.kind === kind));

  test('a query run 100 times between two pg_stat_statements samples appears with calls = 100 in that interval', async () => {
    const agent = await spawnPgAgent(dir, agentConfig({ intervals: { activityMs: 0, locksMs: 0, statementsMs: 1500, systemMs: 0 } }));
    const statements = async () => ((await agent.getHealth()).stats.collectors as Record<string, { runs: number; last_outcome: string }>).statements;
    await waitFor(async () => (await statements())?.last_outcome === 'ok', { timeoutMs: 10_000, intervalMs: 10, what: 'the baseline statements sample' });
    const c = await pgs.client();
    for (let i = 0; i < 100; i++) await c.query('SELECT $1::int + 4242 AS hundred_times', [i]);
    await c.end();
    const record = await waitFor(() => sink.records('pg_stat_statements').find((r) => statementsOf(r).some((s) => s.query.includes('hundred_times'))), { timeoutMs: 10_000, what: 'a pg_stat_statements record with the query' });
    const row = statementsOf(record).find((s) => s.query.includes('hundred_times'));
    assert.equal(row?.calls, 100);
    assert.ok((row?.total_exec_time_ms ?? -1) >= 0);
    assert.equal(typeof record.data.interval_s, 'number');
    assert.equal(record.project, 'pgtest');
    assert.equal(await agent.stop(), 0);
  });

  test('without the pg_stat_statements extension the agent logs one clear line and the other collectors keep running', async () => {
    const agent = await spawnPgAgent(dir, agentConfig({ database: pgs.url('noext'), intervals: { activityMs: 200, locksMs: 0, statementsMs: 200, systemMs: 0 } }));
    const before = sink.records('pg_stat_activity').length;
    await waitFor(async () => ((await agent.getHealth()).stats.collectors as Record<string, { runs: number }>).statements!.runs >= 4, { what: 'four statements runs' });
    await waitFor(() => sink.records('pg_stat_activity').length >= before + 4, { what: 'activity records meanwhile' });
    const lines = agent.output().split('\n').filter((l) => l.includes('pg_stat_statements unavailable'));
    assert.equal(lines.length, 1, agent.output());
    assert.match(lines[0] ?? '', /CREATE EXTENSION pg_stat_statements/);
    assert.equal(await agent.stop(), 0);
  });

  test('a deadlock between two sessions appears as a pg_log record with both statements, in every log format', async () => {
    const agent = await spawnPgAgent(dir, agentConfig({ intervals: { activityMs: 0, locksMs: 0, statementsMs: 0, systemMs: 0 }, logs: { path: pgs.logDir, pollMs: 100 } }));
    await waitFor(async () => (await agent.getHealth()).stats.logs?.file, { what: 'the agent following a log file' });
    const a = await pgs.client('postgres', 'deadlock-a');
    const b = await pgs.client('postgres', 'deadlock-b');
    await a.query('BEGIN');
    await b.query('BEGIN');
    await a.query('UPDATE dl SET v = v + 1 WHERE id = 1');
    await b.query('UPDATE dl SET v = v + 1 WHERE id = 2');
    const first = a.query('UPDATE dl SET v = v + 1 WHERE id = 2').then(() => 'ok', (e: Error) => e.message);
    await waitFor(async () => (await pgs.sql("SELECT 1 FROM pg_stat_activity WHERE application_name = 'deadlock-a' AND wait_event_type = 'Lock'")).rowCount === 1, { what: 'session a waiting' });
    const second = b.query('UPDATE dl SET v = v + 1 WHERE id = 1').then(() => 'ok', (e: Error) => e.message);
    const outcomes = await Promise.all([first, second]);
    assert.ok(outcomes.includes('deadlock detected'), String(outcomes));
    await endAll(a, b);

    const dl = await waitFor(() => events('deadlock')[0], { timeoutMs: 10_000, what: 'a deadlock event' });
    assertBothStatements(dl);
    assert.match(String((await agent.getHealth()).stats.logs?.file), /\.json$/, 'auto picks jsonlog when the server writes it');
    // The same deadlock as the other two formats give it (parsed by the agent's own parsers).
    assertBothStatements(parseFiles(logFiles(pgs, '.log'), createStderrParser()));
    assertBothStatements(parseFiles(logFiles(pgs, '.csv'), createCsvParser()));
    assert.equal(await agent.stop(), 0);
  });

  test('straight to a listener URL: records wait while the listener is down and are stored once it is up', async () => {
    const port = await freePort();
    const token = 'pg-agent-direct';
    const agent = await spawnPgAgent(dir, agentConfig({ send: { url: `http://127.0.0.1:${port}`, token, flushIntervalMs: 100 }, intervals: { activityMs: 200, locksMs: 0, statementsMs: 0, systemMs: 0 } }));
    const down = await waitFor(async () => {
      const h = await agent.getHealth();
      const send = h.stats.send as { buffered: number; failures: number };
      return h.status === 'degraded' && send.buffered >= 3 && send.failures >= 1 ? send : null;
    }, { what: 'records buffered while the listener is down' });
    assert.ok(down.buffered >= 3);
    mkdirSync(join(dir, 'direct'));
    const listener = await spawnListener(join(dir, 'direct'), { listen: `127.0.0.1:${port}`, tokens: { [token]: ['pgtest'] } });
    try {
      const overview = await waitFor(async () => {
        const res = await fetch(`${listener.url}/api/v1/db/overview?project=pgtest&from=${Math.floor(Date.now() / 1000) - 300}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await res.json()) as { series: { samples: number }[] };
        const samples = body.series.reduce((n, p) => n + p.samples, 0);
        return samples >= down.buffered ? samples : null;
      }, { timeoutMs: 40_000, what: 'the buffered activity samples in the listener' });
      assert.ok(overview >= down.buffered);
      assert.equal((await agent.getHealth()).status, 'ok');
    } finally {
      listener.proc.kill('SIGTERM');
      await listener.exited;
    }
    assert.equal(await agent.stop(), 0);
  });

  test('log rotation during the run loses no line (stderr format)', async () => {
    const agent = await spawnPgAgent(dir, agentConfig({ intervals: { activityMs: 0, locksMs: 0, statementsMs: 0, systemMs: 0 }, logs: { path: pgs.logDir, format: 'stderr', pollMs: 50 } }));
    await waitFor(async () => (await agent.getHealth()).stats.logs?.file, { what: 'the agent following a log file' });
    const c = await pgs.client();
    await c.query('SET log_min_duration_statement = 0');
    const N = 300;
    const rotations = async () => ((await agent.getHealth()).stats.logs?.rotations as number | undefined) ?? 0;
    for (let i = 0; i < N; i++) {
      await c.query(`SELECT 'rotation-marker-${i}' AS m`);
      if (i % 60 === 30) {
        // log_filename has second resolution: a rotation within the second its file was created
        // reopens the same file, which is no rotation. So a rotation the agent has not seen
        // after a while is asked for again in a later second (up to 3 times).
        const before = await rotations();
        let seen = false;
        for (let attempt = 0; attempt < 3 && !seen; attempt++) {
          const askedAt = Math.floor(Date.now() / 1000);
          await c.query('SELECT pg_rotate_logfile()');
          seen = await waitFor(async () => (await rotations()) > before, { intervalMs: 50, timeoutMs: 2_500, what: 'rotation' }).then(() => true, () => false);
          await waitFor(() => Math.floor(Date.now() / 1000) > askedAt, { intervalMs: 20, what: 'the next second' });
        }
        assert.ok(seen, `rotation ${i} never seen by the agent`);
      }
    }
    await c.end();
    const seen = await waitFor(
      () => {
        const markers = new Set(events('slow_statement').map((e) => /rotation-marker-(\d+)/.exec(e.statement ?? '')?.[1]).filter((m) => m !== undefined));
        return markers.size === N ? markers : null;
      },
      { timeoutMs: 15_000, what: `all ${N} statements as slow_statement events` },
    );
    assert.equal(seen.size, N);
    const h = await agent.getHealth();
    assert.ok((h.stats.logs?.rotations as number) >= 5, JSON.stringify(h.stats.logs));
    assert.equal(await agent.stop(), 0);
  });
});

function statementsOf(r: AgentRecordSeen): { query: string; calls: number; total_exec_time_ms: number }[] {
  return r.data.statements as { query: string; calls: number; total_exec_time_ms: number }[];
}

function assertBothStatements(e: LogEvent | undefined): void {
  assert.ok(e, 'a deadlock event');
  assert.equal(e.kind, 'deadlock');
  const statements = (e.processes ?? []).map((p) => p.statement).sort();
  assert.deepEqual(statements, ['UPDATE dl SET v = v + 1 WHERE id = 1', 'UPDATE dl SET v = v + 1 WHERE id = 2']);
  assert.match(e.statement ?? '', /^UPDATE dl SET v = v \+ 1 WHERE id = [12]$/);
}

function parseFiles(files: string[], parser: LogParser): LogEvent | undefined {
  const entries = files.flatMap((f) => parser.push(readFileSync(f, 'utf8'))).concat(parser.end());
  return entries.map(classify).find((e) => e?.kind === 'deadlock') ?? undefined;
}

async function endAll(...clients: pg.Client[]): Promise<void> {
  for (const c of clients) {
    await c.query('ROLLBACK').catch(() => undefined);
    await c.end();
  }
}

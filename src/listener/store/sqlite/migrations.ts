import type { Database } from 'better-sqlite3';

/**
 * Versioned schema changes, applied in order inside one transaction each; `PRAGMA user_version`
 * records the last one applied. Never edit a shipped migration: append a new one.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      -- Narrow rows for search; the payload lives in its own table so scans stay small.
      CREATE TABLE requests (
        id INTEGER PRIMARY KEY,
        project TEXT NOT NULL,
        source TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        ts REAL NOT NULL,
        method TEXT NOT NULL,
        url TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        status INTEGER,
        duration_ms REAL NOT NULL,
        host TEXT NOT NULL,
        sql_count INTEGER NOT NULL,
        sql_ms REAL NOT NULL,
        is_error INTEGER NOT NULL
      );
      -- Idempotency (DESIGN 7) and lookup by correlation id in one index.
      CREATE UNIQUE INDEX requests_identity ON requests(correlation_id, project, source);
      CREATE INDEX requests_project_ts ON requests(project, ts);
      CREATE INDEX requests_project_duration ON requests(project, duration_ms);
      CREATE INDEX requests_project_endpoint_ts ON requests(project, endpoint, ts);
      CREATE INDEX requests_project_status_ts ON requests(project, status, ts);
      CREATE INDEX requests_project_host_ts ON requests(project, host, ts);
      CREATE INDEX requests_project_url ON requests(project, url);
      CREATE INDEX requests_ts ON requests(ts);

      CREATE TABLE payloads (id INTEGER PRIMARY KEY, body BLOB NOT NULL);

      CREATE TABLE db_activity (
        id INTEGER PRIMARY KEY,
        project TEXT NOT NULL,
        source TEXT NOT NULL,
        record_key TEXT NOT NULL,
        ts REAL NOT NULL,
        body BLOB NOT NULL
      );
      CREATE UNIQUE INDEX db_activity_identity ON db_activity(record_key, project, source);
      CREATE INDEX db_activity_ts ON db_activity(ts);
      CREATE TABLE db_activity_links (
        correlation_id TEXT NOT NULL,
        activity_id INTEGER NOT NULL,
        PRIMARY KEY (correlation_id, activity_id)
      ) WITHOUT ROWID;
      CREATE INDEX db_activity_links_activity ON db_activity_links(activity_id);

      -- Statistics: per minute and per hour, per key (endpoint, SQL fingerprint, function or the
      -- whole project), with the duration distribution as a sparse histogram blob (histogram-blob.ts).
      -- Percentiles over any window come from summed histograms, never from sorting raw rows.
      CREATE TABLE rollup_keys (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (kind, text)
      );
      CREATE TABLE rollups (
        project TEXT NOT NULL,
        kind TEXT NOT NULL,
        res INTEGER NOT NULL,
        t INTEGER NOT NULL,
        key_id INTEGER NOT NULL,
        count INTEGER NOT NULL,
        total_ms REAL NOT NULL,
        max_ms REAL NOT NULL,
        errors INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        self_ms REAL NOT NULL,
        self_count INTEGER NOT NULL,
        hist BLOB NOT NULL,
        PRIMARY KEY (project, kind, res, t, key_id)
      ) WITHOUT ROWID;
      CREATE INDEX rollups_t ON rollups(t);

      CREATE TABLE projects (name TEXT PRIMARY KEY, first_seen REAL NOT NULL, last_seen REAL NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    sql: `
      -- Payloads may be stored compressed (payload-codec.ts): 0 = bytes as received, 1 = Brotli.
      -- Existing rows keep 0, so a database from version 1 reads exactly as before.
      ALTER TABLE payloads ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE db_activity ADD COLUMN encoding INTEGER NOT NULL DEFAULT 0;
      -- A substring search cannot seek in (project, url); the index only served a covering scan for
      -- the total, which now walks ts order instead. One fewer random B-tree insert per profile.
      DROP INDEX IF EXISTS requests_project_url;
    `,
  },
  {
    version: 3,
    sql: `
      -- Exporters (issue 14): one row per exporter and stream. position = the last rowid confirmed
      -- sent; in_flight = records after it handed over but not confirmed yet; dropped_retention =
      -- records retention deleted while this exporter was enabled and had not sent them.
      CREATE TABLE export_cursors (
        exporter TEXT NOT NULL,
        stream TEXT NOT NULL,
        position INTEGER NOT NULL,
        in_flight INTEGER NOT NULL DEFAULT 0,
        dropped_retention INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        updated_at REAL NOT NULL,
        PRIMARY KEY (exporter, stream)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    sql: `
      -- Exporters: what the OTLP exporter needs from a profile (export-facts.ts, compact JSON), kept
      -- at ingest while one is configured so exporting does not parse the payload again. NULL = not
      -- kept (older rows, OTLP off): the exporter derives it from the payload.
      ALTER TABLE payloads ADD COLUMN facts TEXT;
    `,
  },
];

export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}

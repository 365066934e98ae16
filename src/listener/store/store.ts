import type { SeriesPoint, StatsRow } from '../../shared/protocol/read-api.js';
import type { ExtractedRecord } from '../extract/extract-record.js';
import type { BatchRollup } from './batch-rollup.js';
import type { Cursor } from './cursor.js';
import type { Histogram } from './duration-buckets.js';

/**
 * What the listener needs from storage. SQLite implements it today; a PostgreSQL store can follow
 * (DESIGN section 7) without touching the HTTP layer. All times are unix seconds, durations ms.
 * `projects: null` means "every project" (a `*` token).
 */
export type ProjectScope = readonly string[] | null;

export type InsertResult = { kind: 'accepted'; rowId: number } | { kind: 'duplicate'; rowId: number };

export interface SearchQuery {
  projects: ProjectScope;
  url?: string | undefined;
  method?: string | undefined;
  status?: number | undefined;
  host?: string | undefined;
  minMs?: number | undefined;
  maxMs?: number | undefined;
  from?: number | undefined;
  to?: number | undefined;
  /** Free text: substring of URL, host or endpoint, or an exact correlation id. */
  q?: string | undefined;
  cursor?: Cursor | undefined;
  limit: number;
}

export interface RequestSummary {
  correlation_id: string;
  project: string;
  timestamp: number;
  method: string;
  url: string;
  status: number | null;
  duration_ms: number;
  host: string;
  sql_count: number;
  sql_ms: number;
}

export interface SearchPage {
  items: RequestSummary[];
  next_cursor: string | null;
  /** Exact up to TOTAL_CAP; beyond that `total_capped` is true and total is TOTAL_CAP. */
  total: number;
  total_capped: boolean;
}

export interface StoredRequest extends RequestSummary {
  id: number;
  endpoint: string;
  body: Buffer;
}

export interface StoredActivity {
  project: string;
  source: string;
  timestamp: number;
  body: Buffer;
}

export type StatsKind = 'endpoints' | 'queries' | 'functions';

export interface WindowQuery {
  projects: ProjectScope;
  from: number;
  to: number;
}

/** One endpoint's latency over a window: its histogram and percentiles per step. */
export interface KeySeriesPoint {
  t: number;
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface KeyDetail {
  histogram: Histogram;
  series: KeySeriesPoint[];
}

export interface ProjectSummary {
  project: string;
  first_seen: number;
  last_seen: number;
}

export interface StoreCounts {
  requests: number;
  db_activity: number;
}

/**
 * Export (issue 14, DESIGN section 13). Each kind of record is one append-only stream in store
 * order; an exporter's cursor is one opaque position per stream, persisted in the store with the
 * data, so a restart resumes where the last confirmed batch ended.
 * A store must hand out positions that only grow and never reuse one: SQLite uses the rowid
 * (retention never deletes the newest row, so a rowid is never handed out twice); a store with
 * concurrent writers must order by commit, e.g. (transaction id, id) below the oldest open
 * transaction, so a row committed late cannot appear behind a cursor.
 */
export type ExportStream = 'profile' | 'activity';
export const EXPORT_STREAMS: readonly ExportStream[] = ['profile', 'activity'];

export interface ExportRow {
  stream: ExportStream;
  /** The cursor value once this row is exported. */
  position: string;
  project: string;
  source: string;
  /** Profiles: the correlation id; activity: the record key. */
  key: string;
  timestamp: number;
  /** The indexed columns of a profile; null for activity records. */
  profile: Omit<RequestSummary, 'correlation_id' | 'project' | 'timestamp'> & { endpoint: string; is_error: boolean } | null;
  /**
   * The payload as stored: `encoding` is its payload-codec.ts code (unpackPayload gives the received
   * bytes back), so the export worker, not the event loop, decompresses it, and only when it needs it.
   */
  stored: Buffer;
  encoding: number;
  /** Profiles: what the OTLP exporter needs, kept at ingest (export-facts.ts); null when it was not kept. */
  facts: string | null;
}

export interface ExportCursorState {
  exporter: string;
  position: Record<ExportStream, string>;
  /** Records retention deleted before this exporter sent them (all time). */
  droppedByRetention: Record<ExportStream, number>;
  /** Records after `position` handed to the receiver whose confirmation was not saved yet (a crash resends them). */
  inFlight: Record<ExportStream, number>;
}

export interface Store {
  /**
   * Stores the batch in one transaction, or nothing (throws a StoreUnavailable-type error).
   * `rollup`: the samples of every profile record of the body, already aggregated (a parse worker's);
   * the records' query and function lists may then be empty (lean-records.ts). Used whole when every
   * one of those profiles is new; otherwise the new ones' samples are restored from their payloads.
   */
  insertBatch(records: readonly ExtractedRecord[], rollup?: BatchRollup): Promise<InsertResult[]>;
  search(query: SearchQuery): Promise<SearchPage>;
  getRequest(projects: ProjectScope, correlationId: string): Promise<StoredRequest | null>;
  dbActivity(project: string, correlationId: string, limit: number): Promise<StoredActivity[]>;
  /** Postgres-agent records of the given sources with from <= timestamp < to, oldest first, at most `limit` (the database overview). */
  activityInWindow(window: WindowQuery, sources: readonly string[], limit: number): Promise<StoredActivity[]>;
  /** Payloads of the latest requests on an endpoint before `beforeTs`, excluding one row. */
  recentPayloads(project: string, endpoint: string, beforeTs: number, excludeId: number, limit: number): Promise<Buffer[]>;
  endpointHistogram(project: string, endpoint: string, window: Omit<WindowQuery, 'projects'>): Promise<Histogram>;
  stats(kind: StatsKind, window: WindowQuery, limit: number): Promise<StatsRow[]>;
  /** One key's (e.g. endpoint's) whole-window histogram and p50/p95/p99 per step. */
  keyDetail(kind: StatsKind, key: string, window: WindowQuery, stepS: number): Promise<KeyDetail>;
  timeseries(window: WindowQuery, stepS: number): Promise<SeriesPoint[]>;
  projects(projects: ProjectScope): Promise<ProjectSummary[]>;
  /** Deletes at most `maxRows` of the oldest rows older than `cutoff` from each table; returns how many went. */
  deleteOlderThan(cutoff: number, maxRows: number): Promise<number>;
  /** Returns free pages to the filesystem after deletes. */
  reclaimSpace(): Promise<void>;
  ping(): Promise<void>;
  counts(): Promise<StoreCounts>;
  /**
   * Marks exactly these exporters enabled (retention counts what it deletes before they sent it) and
   * the others disabled; creates missing cursors at the start of the data (`beginning`) or after the
   * newest row (`end`). Returns their states in the order given.
   */
  activateExporters(exporters: readonly { name: string; startAt: 'beginning' | 'end' }[]): Promise<ExportCursorState[]>;
  exportCursor(exporter: string): Promise<ExportCursorState | null>;
  /** Rows after `after` in store order, at most `limit` and about `maxBytes` of stored bytes (always at least one). */
  readForExport(stream: ExportStream, after: string, limit: number, maxBytes: number): Promise<ExportRow[]>;
  /** Saves the confirmed position and how many records after it are being sent now (to count resends after a crash). */
  saveExportCursor(exporter: string, stream: ExportStream, position: string, inFlight: number): Promise<void>;
  /** Rows after `after`. */
  exportBacklog(stream: ExportStream, after: string): Promise<number>;
  /**
   * Whether this listener may run the exporter now. Listeners sharing one database take turns (a
   * lease per exporter), so each record is exported by one of them; a single-process store always says yes.
   */
  exportLease(exporter: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Largest exact total a search reports (as Elasticsearch's track_total_hits does). */
export const TOTAL_CAP = 1_000;

export type { SeriesPoint, StatsRow };

import { promisify } from 'node:util';
import { constants, gzip as gzipCb } from 'node:zlib';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { VERSION } from '../../../shared/version.js';
import type { ExportRow } from '../../store/store.js';
import { yieldToLoop, type ExportErrorCode, type SendOutcome, type Sink } from '../sink.js';
import { profileSpans } from './otlp-spans.js';

const gzip = promisify(gzipCb);

export interface OtlpSinkOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  encoding: 'protobuf' | 'json';
  compression: 'gzip' | 'none';
  maxSqlSpans: number;
  functionSpans: number;
  dbSystem: string;
  timeoutMs: number;
  /** Reports spans a collector refused in a partial success (they are not retried). */
  onRejectedSpans?: (count: number, message: string) => void;
}

/** Profiles turned into spans between yields. */
const SLICE = 25;
/** Longest Retry-After honoured: a bogus header must not park the exporter for hours. 10 min. */
const MAX_RETRY_AFTER_MS = 600_000;

/**
 * OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp): one POST per batch, encoded by the
 * official @opentelemetry/otlp-transformer serializers. 2xx = delivered (a partial success's
 * refused spans are counted, not resent); 400 = the data is bad (the exporter splits the batch and
 * drops the record it cannot send); 413 = too large (split too); 408, 429 and 5xx and network
 * errors are retried, honouring Retry-After; 401/403/404 are retried too, because they are fixed by
 * configuration and dropping data for them would lose it.
 */
export function createOtlpSink(o: OtlpSinkOptions): Sink {
  const resources = new Map<string, Resource>();
  const scope = { name: 'bitville-apm', version: VERSION };
  const resource = (project: string, host: string): Resource => {
    const key = `${project}\0${host}`;
    let r = resources.get(key);
    if (!r) {
      if (resources.size > 10_000) resources.clear();
      r = resourceFromAttributes(host ? { 'service.name': project, 'host.name': host } : { 'service.name': project });
      resources.set(key, r);
    }
    return r;
  };
  const serializer = o.encoding === 'json' ? JsonTraceSerializer : ProtobufTraceSerializer;
  const contentType = o.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  let inFlight: AbortController | null = null;

  const spanOptions = { maxSqlSpans: o.maxSqlSpans, functionSpans: o.functionSpans, dbSystem: o.dbSystem, resource, scope };

  async function spansOf(rows: readonly ExportRow[]): Promise<ReadableSpan[]> {
    const spans: ReadableSpan[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % SLICE === 0) await yieldToLoop();
      for (const span of profileSpans(rows[i] as ExportRow, spanOptions)) spans.push(span);
    }
    return spans;
  }

  return {
    async send(rows) {
      const spans = await spansOf(rows);
      if (spans.length === 0) return { kind: 'delivered' };
      const raw = serializer.serializeRequest(spans);
      if (!raw) return { kind: 'rejected', code: 'bad_request', message: 'the OTLP serializer produced nothing' };
      const body = o.compression === 'gzip' ? await gzip(raw, { level: constants.Z_BEST_SPEED }) : Buffer.from(raw); // level 1: a third of level 6's CPU, off the main thread
      const headers: Record<string, string> = { ...o.headers, 'Content-Type': contentType, 'User-Agent': `bitville-apm/${VERSION}` };
      if (o.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
      const abort = new AbortController();
      inFlight = abort;
      const timer = setTimeout(() => abort.abort(), o.timeoutMs);
      let sent = false;
      try {
        const res = await fetch(o.url, { method: 'POST', headers, body, signal: abort.signal });
        sent = true;
        const answer = Buffer.from(await res.arrayBuffer());
        return classify(res.status, res.headers.get('retry-after'), answer);
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        const code: ExportErrorCode = abort.signal.aborted ? 'timeout' : cause?.code === 'ECONNREFUSED' ? 'refused' : cause?.code === 'ENOTFOUND' ? 'dns' : 'network';
        return { kind: 'retry', code, maybeDelivered: sent || code === 'timeout', message: cause?.code ?? (err as Error).message };
      } finally {
        clearTimeout(timer);
        inFlight = null;
      }
    },
    async close() {
      inFlight?.abort();
    },
  };

  function classify(status: number, retryAfter: string | null, answer: Buffer): SendOutcome {
    if (status >= 200 && status < 300) {
      const rejected = partialRejections(answer);
      if (rejected && rejected.count > 0) o.onRejectedSpans?.(rejected.count, rejected.message);
      return { kind: 'delivered' };
    }
    const message = `HTTP ${status}: ${answer.toString('utf8', 0, Math.min(answer.length, 300))}`;
    if (status === 400) return { kind: 'rejected', code: 'bad_request', message };
    if (status === 413) return { kind: 'rejected', code: 'too_large', message };
    const code: ExportErrorCode = status === 408 ? 'http_408' : status === 429 ? 'http_429' : status >= 500 ? 'http_5xx' : 'http_4xx';
    const afterMs = retryAfterMs(retryAfter);
    return { kind: 'retry', code, maybeDelivered: false, message, ...(afterMs === undefined ? {} : { afterMs }) };
  }

  function partialRejections(answer: Buffer): { count: number; message: string } | null {
    if (answer.length === 0) return null;
    try {
      const p = serializer.deserializeResponse(answer).partialSuccess;
      return p ? { count: Number(p.rejectedSpans ?? 0), message: p.errorMessage ?? '' } : null;
    } catch {
      return null; // an answer we cannot read does not undo a 2xx
    }
  }
}

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
}

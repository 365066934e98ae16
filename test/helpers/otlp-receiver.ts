import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * The official OTLP protobuf definitions, compiled by protobufjs: the static module OpenTelemetry
 * generated from opentelemetry-proto and shipped in @opentelemetry/otlp-transformer 0.216 (installed
 * as the dev dependency `otlp-proto-decoder`). Independent of the encoder the listener uses.
 */
interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
const require = createRequire(import.meta.url);
const root = require('otlp-proto-decoder/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, string | number | boolean>;
  status: { code?: string; message?: string };
  resource: Record<string, string | number | boolean>;
  scope: string;
}

export type CollectorMode = { kind: 'ok' } | { kind: 'status'; status: number; retryAfterS?: number };

export interface OtlpReceiver {
  url: string;
  spans(): DecodedSpan[];
  requests(): { contentType: string; encoding: string }[];
  setMode(mode: CollectorMode): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

interface RawKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
}

function attrs(list: RawKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of list ?? []) out[kv.key] = kv.value.stringValue ?? (kv.value.intValue !== undefined ? Number(kv.value.intValue) : undefined) ?? kv.value.doubleValue ?? kv.value.boolValue ?? '';
  return out;
}

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function statusOf(v: unknown): { code?: string; message?: string } {
  const s = (v ?? {}) as { code?: string | number; message?: string };
  const code = typeof s.code === 'number' ? STATUS_CODES[s.code] : s.code;
  return { ...(code === undefined ? {} : { code }), ...(s.message ? { message: s.message } : {}) };
}

/** An OTLP/HTTP traces endpoint that decodes protobuf (or JSON) bodies into flat spans. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: DecodedSpan[] = [];
  const requests: { contentType: string; encoding: string }[] = [];
  let mode: CollectorMode = { kind: 'ok' };
  let server: Server | null = null;
  let port = 0;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const contentType = String(req.headers['content-type']);
      requests.push({ contentType, encoding: String(req.headers['content-encoding'] ?? 'identity') });
      if (mode.kind === 'status') {
        res.writeHead(mode.status, mode.retryAfterS === undefined ? {} : { 'retry-after': String(mode.retryAfterS) }).end();
        return;
      }
      const json = contentType === 'application/json';
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const decoded = (
        contentType === 'application/json'
          ? JSON.parse(body.toString('utf8'))
          : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, enums: String, bytes: String })
      ) as {
        resourceSpans?: { resource?: { attributes?: RawKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: Record<string, unknown>[] }[] }[];
      };
      for (const rs of decoded.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            // protobuf: ids as base64 (bytes), enums by name; OTLP/JSON: ids as hex, enums as numbers.
            const id = (v: unknown): string => (json ? String(v ?? '') : Buffer.from(String(v ?? ''), 'base64').toString('hex'));
            spans.push({
              traceId: id(s.traceId),
              spanId: id(s.spanId),
              parentSpanId: id(s.parentSpanId),
              name: String(s.name),
              kind: typeof s.kind === 'number' ? (SPAN_KINDS[s.kind] ?? String(s.kind)) : String(s.kind),
              startTimeUnixNano: String(s.startTimeUnixNano),
              endTimeUnixNano: String(s.endTimeUnixNano),
              attributes: attrs(s.attributes as RawKeyValue[] | undefined),
              status: statusOf(s.status),
              resource: attrs(rs.resource?.attributes),
              scope: String(ss.scope?.name ?? ''),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': contentType }).end();
    });
  }

  async function listen(onPort: number): Promise<void> {
    const s = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(onPort, '127.0.0.1', () => resolve());
    });
    server = s;
    port = (s.address() as AddressInfo).port;
  }
  async function down(): Promise<void> {
    const s = server;
    if (!s) return;
    server = null;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
  }
  await listen(0);
  return {
    get url() {
      return `http://127.0.0.1:${port}/v1/traces`;
    },
    spans: () => spans,
    requests: () => requests,
    setMode(m) {
      mode = m;
    },
    down,
    up: () => listen(port),
    close: down,
  };
}

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ListenerConfig } from '../../shared/config/listener-config.js';
import type { LimitedLog } from '../../shared/telemetry/rate-limited-log.js';
import type { FactLimits } from '../extract/export-facts.js';
import type { Store } from '../store/store.js';
import { createExportMetrics } from './export-metrics.js';
import { createExporter, type Exporter, type ExporterName, type ExporterStats } from './exporter.js';
import { parseGelfUrl } from './gelf/gelf-url.js';
import type { SinkSpec } from './sink-spec.js';
import { createWorkerSink, type WorkerSinkHooks } from './worker-sink.js';

export interface Exporters {
  /** Marks the configured exporters enabled in the store, loads their cursors and starts them. */
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): Partial<Record<ExporterName, ExporterStats>>;
}

export interface ExportersOptions {
  config: Readonly<ListenerConfig['exporters']>;
  store: Store;
  registry: Registry;
  log: Logger;
  logLimited: LimitedLog;
}

/**
 * What ingest keeps for the exporters (export-facts.ts): only the OTLP exporter uses facts, so
 * without one nothing is kept and ingest pays nothing.
 */
export function exportFactLimits(config: Readonly<ListenerConfig['exporters']>): FactLimits | null {
  return config.otlp.url === null ? null : { queries: config.otlp.maxSqlSpans, functions: config.otlp.functionSpans };
}

/** Every exporter whose url is set (DESIGN section 13); none costs anything while its url is null. */
export function createExporters(o: ExportersOptions): Exporters {
  const metrics = createExportMetrics(o.registry);
  const built: { name: ExporterName; startAt: 'beginning' | 'end'; exporter: Exporter }[] = [];
  const threadHooks = (name: ExporterName): WorkerSinkHooks => ({
    onRejectedSpans: (count, message) => o.logLimited('otlp-partial', { exporter: name, rejected_spans: count, message }, 'the collector refused some spans (partial success); they are not resent'),
    onThreadFailed: (message) => o.logLimited(`export-thread:${name}`, { exporter: name, err: message }, 'export thread failed; its batch is retried on a new thread'),
  });
  const gelf = o.config.gelf;
  if (gelf.url !== null) {
    const { transport, host, port } = parseGelfUrl(gelf.url);
    const spec: SinkSpec =
      transport === 'udp'
        ? { kind: 'gelf-udp', options: { host, port, compress: gelf.compress === true ? 'gzip' : gelf.compress === false ? 'none' : gelf.compress, chunkBytes: gelf.chunkBytes, fullMessageMaxBytes: gelf.fullMessageMaxBytes, confirmMs: gelf.udpConfirmMs } }
        : { kind: 'gelf-tcp', options: { host, port, tls: transport === 'tls' ? tlsOptions(gelf.tls) : null, fullMessageMaxBytes: gelf.fullMessageMaxBytes, connectTimeoutMs: gelf.connectTimeoutMs, timeoutMs: gelf.timeoutMs } };
    const sink = createWorkerSink(spec, threadHooks('gelf'));
    built.push({ name: 'gelf', startAt: gelf.startAt, exporter: createExporter({ name: 'gelf', store: o.store, sink, streams: ['profile', 'activity'], settings: gelf, metrics, log: o.log, logLimited: o.logLimited }) });
  }
  const otlp = o.config.otlp;
  if (otlp.url !== null) {
    const options = {
      url: otlp.url,
      headers: otlp.headers,
      encoding: otlp.encoding,
      compression: otlp.compression,
      maxSqlSpans: otlp.maxSqlSpans,
      functionSpans: otlp.functionSpans,
      dbSystem: otlp.dbSystem,
      timeoutMs: otlp.timeoutMs,
    };
    const sink = createWorkerSink({ kind: 'otlp', options }, threadHooks('otlp'));
    // Postgres-agent records are not requests: they have no trace to join, so OTLP sends profiles only.
    built.push({ name: 'otlp', startAt: otlp.startAt, exporter: createExporter({ name: 'otlp', store: o.store, sink, streams: ['profile'], settings: otlp, metrics, log: o.log, logLimited: o.logLimited }) });
  }

  return {
    async start() {
      const cursors = await o.store.activateExporters(built.map((b) => ({ name: b.name, startAt: b.startAt })));
      built.forEach((b, i) => {
        const cursor = cursors[i];
        if (!cursor) throw new Error(`store returned no cursor for exporter ${b.name}`);
        b.exporter.start(cursor);
        o.log.info({ exporter: b.name, position: cursor.position, in_flight: cursor.inFlight }, 'exporter started');
      });
    },
    async stop() {
      await Promise.all(built.map((b) => b.exporter.stop()));
    },
    stats() {
      return Object.fromEntries(built.map((b) => [b.name, b.exporter.stats()]));
    },
  };
}

function tlsOptions(t: Readonly<ListenerConfig['exporters']['gelf']['tls']>): ConnectionOptions {
  const read = (file: string | null, key: string): Buffer | undefined => {
    if (file === null) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`exporters.gelf.tls.${key}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const ca = read(t.ca, 'ca');
  const cert = read(t.cert, 'cert');
  const key = read(t.key, 'key');
  return { rejectUnauthorized: t.rejectUnauthorized, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

import { mkdirSync, readFileSync, accessSync, constants, writeFileSync, renameSync } from 'node:fs';
import { isAbsolute, join, dirname } from 'node:path';
import { fastify, LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../shared/config/listener-config.js';
import { parseHostPort } from '../shared/config/parse-host-port.js';
import { rateLimitedLog } from '../shared/telemetry/rate-limited-log.js';
import { createAuth } from './ingest-api/auth.js';
import { createInflateGate } from './ingest-api/inflate-gate.js';
import { createIngestService } from './ingest-api/ingest-service.js';
import { createParsePool } from './ingest-api/parse-pool.js';
import { registerIngestRoutes } from './ingest-api/ingest-routes.js';
import { createRateLimiter } from './ingest-api/rate-limiter.js';
import { createUdpIngest, type UdpIngest } from './ingest-api/udp-ingest.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { errorServerOptions, registerErrorHandlers } from './http-errors.js';
import { createListenerMetrics } from './metrics.js';
import { registerQueryRoutes } from './query-api/query-routes.js';
import { createExporters, exportFactLimits } from './export/exporters.js';
import { createRetention } from './retention.js';
import { isPostgresUrl, pgTarget, redactUrl } from './store/postgres/pg-connection.js';
import { openPostgresStore } from './store/postgres/postgres-store.js';
import { createSqliteStore } from './store/sqlite/sqlite-store.js';
import type { Store } from './store/store.js';

export interface StartOptions {
  /** Allow starting without a real token; requests without a token may then read and write everything. */
  insecureDev?: boolean;
}

export interface RunningListener {
  /** e.g. "http://127.0.0.1:8443" with the bound port. */
  url: string;
  /** The bound UDP address when UDP ingest is on. */
  udp: { host: string; port: number } | null;
  stop(): Promise<void>;
}

/** The token in the default config: a listener must not run with it by accident. */
const PLACEHOLDER_TOKEN = 'change-me';

/** Boot problems (bad config, unusable data dir) throw; everything after start is counted and logged. */
export async function startListener(config: Readonly<ListenerConfig>, log: Logger, options: StartOptions = {}): Promise<RunningListener> {
  const insecureDev = options.insecureDev ?? false;
  const tokens = Object.fromEntries(Object.entries(config.tokens).filter(([t]) => insecureDev || t !== PLACEHOLDER_TOKEN));
  if (Object.keys(tokens).length === 0 && !insecureDev) {
    throw new Error(`refusing to start without a token: set tokens in listener.yaml (the placeholder "${PLACEHOLDER_TOKEN}" does not count) or pass --insecure-dev`);
  }
  if (insecureDev) log.warn('--insecure-dev: requests without a token may read and write every project');
  const { store, kind: storeKind } = await openStore(config, log);
  const metrics = createListenerMetrics();
  const logLimited = rateLimitedLog(log);
  const startedAt = Date.now();
  const auth = createAuth({ tokens, insecureDev });
  const facts = exportFactLimits(config.exporters);
  const service = createIngestService(store, metrics, Date.now, facts);
  const pool = createParsePool({ maxLineBytes: config.limits.maxLineBytes, facts });
  const retention = createRetention({ store, retentionDays: config.store.retentionDays, intervalMs: config.store.retentionIntervalMs, metrics, log, logLimited });
  let exporters: ReturnType<typeof createExporters>;
  try {
    exporters = createExporters({ config: config.exporters, store, registry: metrics.registry, log: log.child({ component: 'export' }), logLimited });
  } catch (err) {
    await pool.stop();
    await store.close();
    throw err;
  }

  let app: FastifyInstance;
  try {
    app = fastify({
      loggerInstance: log.child({ component: 'http' }),
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: config.limits.maxBodyBytes,
      ...errorServerOptions(),
      ...(config.tls.key && config.tls.cert ? { https: { key: readFileSync(config.tls.key), cert: readFileSync(config.tls.cert) } } : {}),
    }) as unknown as FastifyInstance;
  } catch (err) {
    await pool.stop();
    await store.close();
    throw new Error(`cannot read TLS key or cert: ${(err as Error).message}`);
  }
  // Bodies stay raw bytes: ingest routes gunzip and parse them themselves (NDJSON, pretty JSON).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  let stopping = false;
  registerErrorHandlers(app, { maxBodyBytes: config.limits.maxBodyBytes, metrics, logLimited, stopping: () => stopping });

  registerIngestRoutes(app, {
    auth,
    service,
    pool,
    limiter: createRateLimiter({ linesPerSecond: config.limits.linesPerSecond, burstLines: config.limits.burstLines }),
    metrics,
    logLimited,
    maxBodyBytes: config.limits.maxBodyBytes,
    maxLineBytes: config.limits.maxLineBytes,
    inflateGate: createInflateGate(config.limits.maxInflatingBodies),
  });
  registerQueryRoutes(app, { auth, store, metrics, logLimited, maxPayloadBytes: config.limits.maxLineBytes });
  registerHealthRoutes(app, { store, storeKind, service, retention, exporters, metrics, logLimited, startedAt });
  registerDashboardRoutes(app);

  let udp: UdpIngest | null = null;
  let udpAddress: { host: string; port: number } | null = null;
  try {
    const { host, port } = parseHostPort(config.listen);
    await app.listen({ host, port });
    if (config.udp.listen) {
      const u = parseHostPort(config.udp.listen);
      if (config.udp.secret === null && config.udp.allowFrom.length === 0) throw new Error('udp.listen is set but neither udp.secret nor udp.allowFrom: anyone could write');
      udp = createUdpIngest({
        ...u,
        secret: config.udp.secret,
        allowFrom: config.udp.allowFrom,
        projects: config.udp.projects.includes('*') ? null : config.udp.projects,
        service,
        metrics,
        logLimited,
      });
      udpAddress = await udp.start();
    }
  } catch (err) {
    await app.close();
    await udp?.stop();
    await pool.stop();
    await store.close();
    throw err;
  }
  try {
    await exporters.start();
  } catch (err) {
    await app.close();
    await udp?.stop();
    await pool.stop();
    await store.close();
    throw err;
  }
  retention.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { host } = parseHostPort(config.listen);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `${config.tls.key && config.tls.cert ? 'https' : 'http'}://${shownHost}:${port}`;
  log.info({ url, udp: udpAddress, store: storeKind, dataDir: config.dataDir }, 'listener listening');
  // For scripts and tests that start us on port 0: where we ended up (temp + rename, never half-written).
  const stateFile = join(config.dataDir, 'listener.json');
  writeFileSync(`${stateFile}.tmp`, JSON.stringify({ pid: process.pid, url, udp: udpAddress ? `${udpAddress.host}:${udpAddress.port}` : null }));
  renameSync(`${stateFile}.tmp`, stateFile);

  let stopped: Promise<void> | null = null;
  return {
    url,
    udp: udpAddress,
    stop() {
      stopping = true;
      stopped ??= (async () => {
        await udp?.stop();
        await retention.stop();
        await app.close();
        await exporters.stop(); // after ingest stopped; saves each cursor
        await pool.stop();
        await store.close();
        log.info('listener stopped');
      })();
      return stopped;
    },
  };
}

async function openStore(config: Readonly<ListenerConfig>, log: Logger): Promise<{ store: Store; kind: string }> {
  const url = config.store.url;
  if (isPostgresUrl(url)) {
    const t = pgTarget(config.store);
    if (!t.ok) throw new Error(t.message);
    try {
      mkdirSync(config.dataDir, { recursive: true }); // listener.json goes there
    } catch (err) {
      throw new Error(`dataDir: cannot create ${config.dataDir}: ${(err as Error).message}`);
    }
    const store = await openPostgresStore({ target: t.target, retentionDays: config.store.retentionDays, partitionsAhead: config.store.partitionsAhead, log: log.child({ component: 'store' }) });
    log.info({ database: t.target.display, sslmode: t.target.sslmode }, 'PostgreSQL store open');
    return { store, kind: 'postgres' };
  }
  if (!url.startsWith('sqlite:')) throw new Error(`store.url = "${redactUrl(url)}": expected "sqlite:<file>" or a postgres:// URL`);
  const path = url.slice('sqlite:'.length);
  const file = isAbsolute(path) ? path : join(config.dataDir, path);
  try {
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
  } catch (err) {
    throw new Error(`dataDir: cannot create or write ${dirname(file)}: ${(err as Error).message}`);
  }
  return { store: createSqliteStore({ file }), kind: 'sqlite' };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumSeries } from '../../../test/helpers/prometheus-text.js';
import { createDaemonMetrics } from './daemon-metrics.js';

test('per-message counts reach /metrics and /health when read, once each, and keep counting after a read', async () => {
  const m = createDaemonMetrics();
  m.accepted('unix');
  m.accepted('unix', 2);
  m.accepted('inbox');
  m.receivedBytes('unix', 1_000);
  m.connectionOpened();
  m.connectionOpened();
  m.connectionEnded();

  let text = await m.registry.metrics();
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_accepted_total', 'source="unix"'), 3);
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_accepted_total', 'source="inbox"'), 1);
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_received_bytes_total', 'source="unix"'), 1_000);
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_connections_total'), 2);
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_connections_active'), 1);

  m.accepted('unix');
  m.connectionEnded();
  const snap = await m.snapshot();
  assert.deepEqual(snap.accepted, { unix: 4, inbox: 1 }, 'a read hands over what was counted, not twice');
  assert.equal(snap.acceptedTotal, 5);
  assert.equal(snap.connections, 2);
  assert.equal(snap.activeConnections, 0);

  text = await m.registry.metrics();
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_accepted_total', 'source="unix"'), 4);
  assert.equal(sumSeries(text, 'bitville_daemon_ingest_connections_total'), 2);
});

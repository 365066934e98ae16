import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../../shared/config/load-config.js';
import { listenerConfigSchema } from '../../../shared/config/listener-config.js';
import { startGelfTcpReceiver } from '../../../../test/helpers/gelf-receivers.js';
import { waitFor } from '../../../../test/helpers/wait-for.js';
import type { ExportRow } from '../../store/store.js';
import { createGelfTcpSink } from './gelf-tcp.js';
import { parseGelfUrl } from './gelf-url.js';

function check(url: string): string[] {
  try {
    loadConfig(listenerConfigSchema, { env: {}, overrides: { exporters: { gelf: { url } } } });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

test('the config check accepts GELF URLs with bracketed IPv6 hosts and refuses malformed ones with the reason', () => {
  for (const good of ['tcp://[::1]:12201', 'udp://[fe80::1]:12201', 'tls://[2001:db8::7]:12201/', 'tcp://graylog.internal:12201', 'udp://10.0.0.5:12201']) assert.deepEqual(check(good), [], good);
  for (const [bad, why] of [
    ['tcp://::1:12201', /expected tcp:\/\/host:port.*IPv6 in brackets/],
    ['tcp://[::1]', /expected tcp:\/\/host:port/],
    ['tcp://[::1::2]:12201', /not a valid URL/],
    ['tcp://graylog:70000', /port must be 1-65535/],
    ['http://graylog:12201', /expected tcp:\/\/host:port/],
  ] as const) {
    const problems = check(bad).join('\n');
    assert.match(problems, /exporters\.gelf\.url/, bad);
    assert.match(problems, why, bad);
  }
});

test('a bracketed IPv6 GELF URL connects to the address without brackets and delivers over TCP', async () => {
  assert.deepEqual(parseGelfUrl('udp://[fe80::1]:12201'), { transport: 'udp', host: 'fe80::1', port: 12201 });
  assert.deepEqual(parseGelfUrl('tcp://graylog:1/'), { transport: 'tcp', host: 'graylog', port: 1 });
  const receiver = await startGelfTcpReceiver({ host: '::1' });
  try {
    const target = parseGelfUrl(`tcp://[::1]:${receiver.port}`);
    const sink = createGelfTcpSink({ host: target.host, port: target.port, tls: null, fullMessageMaxBytes: 1000, connectTimeoutMs: 2000, timeoutMs: 5000 });
    const row: ExportRow = {
      stream: 'profile',
      position: '1',
      project: 'shop',
      source: 'php',
      key: 'v6-1',
      timestamp: 1764150001,
      profile: { method: 'GET', url: '/', endpoint: 'GET /', status: 200, duration_ms: 1, host: 'web-1', sql_count: 0, sql_ms: 0, is_error: false },
      stored: Buffer.from('{"correlation_id":"v6-1"}'),
      encoding: 0,
      facts: null,
    };
    assert.deepEqual(await sink.send([row]), { kind: 'delivered' });
    await waitFor(() => receiver.ids().length === 1, { what: 'the message over ::1' });
    assert.deepEqual(receiver.ids(), ['v6-1']);
    await sink.close();
  } finally {
    await receiver.close();
  }
});

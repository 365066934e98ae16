import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../shared/protocol/parse-message.js';
import { warmUpIngest, warmUpProfile } from './warm-up.js';

test('warm-up sends every synthetic profile through the real connection path and the intake passes each', async () => {
  const r = await warmUpIngest({ connections: 50, validation: 'structural', maxMessageBytes: 1024 * 1024, budgetMs: 10_000 });
  assert.deepEqual({ handled: r.handled, cutShort: r.cutShort }, { handled: 50, cutShort: null });
  const full = await warmUpIngest({ connections: 10, validation: 'full', maxMessageBytes: 1024 * 1024, budgetMs: 10_000 });
  assert.equal(full.handled, 10);
});

test('the warm-up profile is a valid profile of realistic size, so the checks meet production bytes', () => {
  const p = warmUpProfile();
  assert.ok(p.length > 8_000 && p.length < 16_000, String(p.length));
  const parsed = parseMessage(p.subarray(0, -1), 'full');
  assert.equal(parsed.kind, 'accepted');
  assert.equal(parsed.kind === 'accepted' && parsed.filledDefaults, false);
});

test('a warm-up that runs out of budget or cannot pass its checks returns, and says why', async () => {
  const slow = await warmUpIngest({ connections: 100_000, validation: 'structural', maxMessageBytes: 1024 * 1024, budgetMs: 50 });
  assert.match(String(slow.cutShort), /budget of 50 ms/);
  assert.ok(slow.handled < 100_000);
  // maxMessageBytes below the profile's size: every message is refused, none handled, no throw
  const refused = await warmUpIngest({ connections: 5, validation: 'structural', maxMessageBytes: 1024, budgetMs: 10_000 });
  assert.equal(refused.handled, 0);
});

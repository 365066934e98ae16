import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDbBudget } from './db-budget.js';

test('the budget doubles the slowdown while over the limit (up to 32) and halves it once under half', () => {
  let now = 1_000_000;
  const b = createDbBudget({ maxMsPerSecond: 10, now: () => now });
  for (let s = 0; s < 12; s++) {
    b.record(50); // 5x the budget every second
    now += 1000;
  }
  assert.ok(b.msPerSecond() > 10);
  assert.equal(b.slowdown(), 32);
  for (let s = 0; s < 20; s++) {
    b.record(1);
    now += 1000;
  }
  assert.ok(b.msPerSecond() < 5);
  assert.equal(b.slowdown(), 1);
});

test('within the budget nothing slows down, and the average only counts whole seconds the agent ran', () => {
  let now = 5_000;
  const b = createDbBudget({ maxMsPerSecond: 20, now: () => now });
  b.record(15);
  now += 1000;
  assert.equal(b.msPerSecond(), 15);
  b.record(15);
  now += 1000;
  assert.equal(b.msPerSecond(), 15);
  assert.equal(b.slowdown(), 1);
});

test('a query beyond the credit makes the collectors wait until it is paid for; idle time saves up at most one second of budget', () => {
  let now = 1_000_000;
  const b = createDbBudget({ maxMsPerSecond: 10, now: () => now });
  assert.equal(b.waitMs(), 0);
  b.record(50); // 10 ms of credit, 40 ms of debt: 4 s at 10 ms/s
  assert.equal(b.waitMs(), 4000);
  now += 3000;
  assert.equal(b.waitMs(), 1000);
  now += 1000;
  assert.equal(b.waitMs(), 0);
  now += 60_000; // a long quiet minute is worth one second of credit, not sixty
  b.record(25);
  assert.equal(b.waitMs(), 1500);
});

test('one query is charged at most the statement timeout: a hung network is not database time', () => {
  let now = 1_000_000;
  const b = createDbBudget({ maxMsPerSecond: 20, maxQueryMs: 500, now: () => now });
  b.record(2_500); // the client gave up after 2.5 s; the server ended the statement at 500 ms at the latest
  assert.equal(b.waitMs(), 24_000); // (500 - 20) ms of debt at 20 ms/s, not (2,500 - 20)
  now += 1000;
  assert.equal(b.msPerSecond(), 500);
});

import assert from 'node:assert/strict';
import type { TestListener } from './listener-harness.js';

/** Every page of a read-API answer, following next_cursor (opaque: each store has its own row ids). */
export async function pages(l: TestListener, path: string, token: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 1000; n++) {
    const r = await l.get(`${path}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, token);
    const { next_cursor, ...rest } = r.json as { next_cursor?: string | null };
    out.push({ status: r.status, ...rest, has_next: typeof next_cursor === 'string' });
    cursor = next_cursor ?? null;
    if (cursor === null) break;
  }
  return out;
}

/** Asserts both listeners answer each path alike; returns the first one's answers. */
export async function sameAnswers(a: TestListener, b: TestListener, paths: readonly string[], token = 'token-all'): Promise<unknown[][]> {
  const answers: unknown[][] = [];
  for (const path of paths) {
    const x = await pages(a, path, token);
    const y = await pages(b, path, token);
    assert.deepEqual(y, x, `GET ${path} (${token})`);
    answers.push(x);
  }
  return answers;
}

export const itemsOf = (answer: unknown[] | undefined): unknown[] => (answer ?? []).flatMap((p) => (p as { items?: unknown[] }).items ?? []);

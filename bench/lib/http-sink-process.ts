import type { ChildProcess } from 'node:child_process';
import { forkModule, nextMessage } from './child.js';
import type { HttpSinkMessage } from './http-sink.js';

export interface HttpSinkProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the time (Date.now()) the count-th profile arrived. */
  reached(count: number): Promise<number>;
}

/** The stand-in listener (http-sink.ts) in its own process, once it listens. */
export async function startHttpSink(): Promise<HttpSinkProcess> {
  const child = forkModule('./http-sink.js', {});
  const { port } = (await nextMessage<HttpSinkMessage>(child, (m) => m.type === 'listening', 10_000, 'http sink')) as Extract<HttpSinkMessage, { type: 'listening' }>;
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    async reached(count) {
      const answer = nextMessage<HttpSinkMessage>(child, (m) => m.type === 'reached', 300_000, 'http sink');
      child.send({ type: 'expect', count });
      return ((await answer) as Extract<HttpSinkMessage, { type: 'reached' }>).at;
    },
  };
}

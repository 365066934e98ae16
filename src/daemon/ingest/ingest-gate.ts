import type { Queue } from '../buffer/queue.js';

export interface IngestGate {
  /** False while the queue is congested: a connection with a whole line must wait its turn. */
  open(): boolean;
  /** Queues `resume`, to be called once it is this connection's turn. */
  wait(resume: () => void): void;
  /** A waiting connection went away. */
  forget(resume: () => void): void;
  waiting(): number;
}

/**
 * Fairness under backpressure (issue 9). While the queue is congested, each connection that has
 * a whole message stops reading and waits here with that one message; connections with nothing
 * to offer keep being read (and swept when idle). On relief the waiting connections go one at a
 * time, oldest first, and one that has more joins the back of the line: a flooding client gets
 * one message per round, the same as everyone else.
 */
export function createIngestGate(queue: Pick<Queue, 'congested' | 'whenRelieved'>): IngestGate {
  const line: Array<() => void> = [];
  let armed = false;

  function arm(): void {
    if (armed || line.length === 0) return;
    armed = true;
    queue.whenRelieved(() => {
      // still armed while releasing: a connection that waits again joins the back of this line
      while (line.length > 0 && !queue.congested()) (line.shift() as () => void)();
      armed = false;
      arm();
    });
  }

  return {
    open: () => !queue.congested(),
    wait(resume) {
      line.push(resume);
      arm();
    },
    forget(resume) {
      const i = line.indexOf(resume);
      if (i !== -1) line.splice(i, 1);
    },
    waiting: () => line.length,
  };
}

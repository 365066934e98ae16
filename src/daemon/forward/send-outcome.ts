/**
 * Why a send did not deliver. A closed set: these are Prometheus label values and the keys of
 * /health `forward.failures_by_kind`.
 */
export type ForwardErrorCode =
  | 'connect' // refused, unreachable, DNS
  | 'connect_timeout' // no TCP connection within forward.connectTimeoutMs
  | 'timeout' // connected, but no complete answer within forward.timeoutMs
  | 'reset' // the connection broke mid-request (answer lost)
  | 'http_5xx'
  | 'http_429'
  | 'http_408'
  | 'http_4xx' // permanent: quarantined
  | 'aborted' // our own stop() gave up waiting; not the listener's fault
  | 'other';

export const FAILURE_KINDS: readonly ForwardErrorCode[] = [
  'connect',
  'connect_timeout',
  'timeout',
  'reset',
  'http_5xx',
  'http_429',
  'http_408',
  'other',
];

/** The answer to one batch; the caller must `switch` on `kind`. */
export type SendOutcome =
  | { kind: 'delivered'; status: number; wireBytes: number }
  /** 408, 429, 5xx, network: the batch goes back to the queue. afterMs from Retry-After. */
  | { kind: 'retry'; code: ForwardErrorCode; status?: number; afterMs?: number; detail: string }
  /** Other 4xx: retrying cannot help; the batch is kept in quarantine/ with the answer. */
  | { kind: 'quarantine'; code: 'http_4xx'; status: number; body: string };

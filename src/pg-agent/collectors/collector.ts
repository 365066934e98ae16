/** What one collector run gives: a value, or the reason there is none (never a throw). */
export type CollectorResult<T> =
  | { kind: 'ok'; value: T; ms: number }
  | { kind: 'unavailable' }
  | { kind: 'error'; code: string; message: string; ms: number };

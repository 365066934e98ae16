/**
 * Every `error` code a listener answer may carry (`{error, message}`), a closed set: clients and
 * the daemon branch on the code, people read the message. A 5xx never carries internal text; the
 * cause is logged instead (docs/listener.md, "Errors").
 */
export const LISTENER_ERROR_CODES = [
  // 400
  'bad_request',
  'bad_query',
  'bad_encoding',
  'not_ndjson',
  'invalid_json',
  'not_object',
  'too_deep',
  'id_too_long',
  // 401, 403, 404, 408
  'unauthorized',
  'forbidden',
  'project_not_allowed',
  'not_found',
  'request_timeout',
  // 413, 414, 431, 429
  'body_too_large',
  'line_too_large',
  'uri_too_long',
  'headers_too_large',
  'rate_limited',
  // 5xx
  'internal',
  'busy',
  'store_unavailable',
  'shutting_down',
  'dashboard_not_built',
] as const;

export type ListenerErrorCode = (typeof LISTENER_ERROR_CODES)[number];

/** Why one ingest line was not stored (`rejected: [{line, error}]` and the rejected-lines metric). */
export type LineError = Extract<ListenerErrorCode, 'invalid_json' | 'not_object' | 'too_deep' | 'id_too_long' | 'line_too_large' | 'project_not_allowed'>;

export interface ErrorBody {
  error: ListenerErrorCode;
  message: string;
}

export function errorBody<E extends object>(error: ListenerErrorCode, message: string, extra?: E): ErrorBody & E {
  return { error, message, ...(extra as E) };
}

/** Longest piece of request input (a URL, an id) echoed in a message. */
export function shown(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

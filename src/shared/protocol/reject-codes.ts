/**
 * Why a message was not accepted. A closed set: these are metric label values
 * (`bitville_daemon_ingest_rejected_total{error_code}`), never free text.
 */
export const REJECT_CODES = ['invalid_json', 'not_object', 'oversized', 'incomplete', 'too_deep', 'id_too_long'] as const;
// incomplete: a connection we closed (idle timeout, shutdown) held a partial line that was not a whole message.
// too_deep: nested deeper than MAX_JSON_DEPTH; id_too_long: correlation_id over MAX_CORRELATION_ID_CHARS (json-limits.ts).
export type RejectCode = (typeof REJECT_CODES)[number];

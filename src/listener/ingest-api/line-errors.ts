import { MAX_CORRELATION_ID_CHARS, MAX_JSON_DEPTH } from '../../shared/protocol/json-limits.js';
import type { LineError } from '../error-codes.js';

/** The human sentence for a line's error code, as the single-object routes answer it. */
export function lineErrorMessage(error: LineError, maxLineBytes: number): string {
  switch (error) {
    case 'invalid_json':
      return 'body is not valid JSON';
    case 'not_object':
      return 'expected one JSON object';
    case 'too_deep':
      return `objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels`;
    case 'id_too_long':
      return `correlation_id is longer than ${MAX_CORRELATION_ID_CHARS} characters`;
    case 'line_too_large':
      return `the profile is larger than ${maxLineBytes} bytes after decompression (limits.maxLineBytes)`;
    case 'project_not_allowed':
      return 'this token may not write that project';
  }
}

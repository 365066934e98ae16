import { z } from 'zod';
import { decodeCursor } from '../store/cursor.js';

const optionalText = z.string().trim().min(1).max(2000).optional();
const optionalNumber = z.coerce.number().finite().optional();

/** GET /api/v1/requests query string. Unknown parameters are ignored, bad values are 400s. */
export const searchParams = z.object({
  project: optionalText,
  url: optionalText,
  method: z.string().trim().min(1).max(16).optional(),
  status: z.coerce.number().int().min(0).max(999).optional(),
  host: optionalText,
  min_ms: optionalNumber,
  max_ms: optionalNumber,
  from: optionalNumber,
  to: optionalNumber,
  q: optionalText,
  cursor: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const c = decodeCursor(v);
      if (!c) ctx.addIssue({ code: 'custom', message: 'not a cursor this API issued' });
      return c ?? undefined;
    }),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** Statistics window; defaults to the last hour. */
export const windowParams = z.object({
  project: optionalText,
  from: optionalNumber,
  to: optionalNumber,
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  step: z.coerce.number().int().min(60).max(86_400).default(60),
});

/** GET /api/v1/stats/key: one endpoint, query fingerprint or function over a window. */
export const keyParams = windowParams.extend({
  kind: z.enum(['endpoints', 'queries', 'functions']).default('endpoints'),
  key: z.string().min(1).max(2000),
});

export const detailParams = z.object({ project: optionalText });

export const DEFAULT_WINDOW_S = 3600;
/** Longest statistics window: the retention period is the practical limit anyway. */
export const MAX_WINDOW_S = 366 * 24 * 3600;
/** Most points a time series returns; a finer step over a long window is coarsened. */
export const MAX_POINTS = 10_080;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The name of the first query parameter holding a control character (U+0000-U+001F, U+007F), or
 * null. Such a filter is answered 400 `bad_query` before it reaches the store: no stored URL,
 * host, endpoint or key contains one, and SQLite reads a LIKE pattern only up to a NUL, so
 * `q=%00` used to match every row (issue 9).
 */
export function controlCharacterParam(query: unknown): string | null {
  if (typeof query !== 'object' || query === null) return null;
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string' && CONTROL.test(v)) return name;
  }
  return null;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
}

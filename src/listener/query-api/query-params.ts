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

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
}

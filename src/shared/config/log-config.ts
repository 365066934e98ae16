import { z } from 'zod';

/** `log:` in every role's config: JSON lines by default, `pretty` for people at a terminal. */
export const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    format: z.enum(['json', 'pretty']).default('json'),
  })
  .prefault({});

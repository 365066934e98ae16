import { z } from 'zod';

/** "host:port" as written in config files; port 0 asks the OS for a free port (tests). */
export const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected "host:port", e.g. "127.0.0.1:9191"');

import { z } from 'zod';

/**
 * An http:// or https:// URL (the forwarder and every HTTP client speak nothing else); `ftp://x`
 * or a bare host is refused at start with this message instead of failing at the first send.
 */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL, e.g. "https://listener.example:8443"' });

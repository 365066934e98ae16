import http from 'node:http';
import https from 'node:https';

/**
 * GET {url}/ready: true only for a 200 (the listener is up and its store answers). Older
 * listeners without /ready answer 404 and simply keep the breaker's own schedule. Never throws.
 */
export function probeReady(url: string, timeoutMs: number): Promise<boolean> {
  const target = new URL('ready', url.endsWith('/') ? url : `${url}/`);
  const get = target.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve) => {
    const req = get(target, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume(); // the body does not matter, but it must be read for the socket to close
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

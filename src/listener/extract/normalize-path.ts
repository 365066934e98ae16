/**
 * Endpoint keys group requests that run the same code: `METHOD /path` with ids, UUIDs, hex
 * digests and long tokens replaced, so `/orders/1042` and `/orders/77` are one endpoint.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\d+$/;
const HEX = /^(?=.*\d)[0-9a-f]{8,}$/i;
// A long opaque segment with digits (session ids, base64 tokens): not a route name.
const TOKEN = /^(?=.*\d)[A-Za-z0-9_-]{20,}$/;

export function urlPath(url: string): string {
  if (url === '') return '/';
  let path = url;
  const scheme = path.indexOf('://');
  if (scheme > 0 && scheme < 10) {
    const slash = path.indexOf('/', scheme + 3);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  return path.startsWith('/') ? path : `/${path}`;
}

export function normalizePath(path: string): string {
  const parts = path.split('/').map((segment) => {
    if (segment === '') return segment;
    if (NUMBER.test(segment)) return '{id}';
    if (UUID.test(segment)) return '{uuid}';
    if (HEX.test(segment)) return '{hex}';
    if (TOKEN.test(segment)) return '{token}';
    return segment;
  });
  let out = parts.join('/').replace(/\/{2,}/g, '/');
  if (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  return out.length > 500 ? out.slice(0, 500) : out || '/';
}

export function endpointKey(method: string, url: string): string {
  return `${method} ${normalizePath(urlPath(url))}`;
}

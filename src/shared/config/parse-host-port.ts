/** A "host:port" config value split for listen()/bind(); IPv6 hosts are written in brackets. */
export interface HostPort {
  host: string;
  port: number;
}

// Apart from the zod schema in host-port.ts, so runtime code that only splits an address
// (the daemon's worker above all) does not load the schema library.
export function parseHostPort(value: string): HostPort {
  const at = value.lastIndexOf(':');
  const host = value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(at + 1)) };
}

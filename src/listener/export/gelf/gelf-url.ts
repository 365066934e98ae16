/** Where a GELF exporter sends: transport, host (IPv6 without its brackets, as net/dgram want it) and port. */
export interface GelfTarget {
  transport: 'tcp' | 'udp' | 'tls';
  host: string;
  port: number;
}

/** Splits an `exporters.gelf.url` the config check accepted (tcp|udp|tls://host:port, IPv6 as [::1]). */
export function parseGelfUrl(url: string): GelfTarget {
  const u = new URL(url);
  const transport = u.protocol.replace(':', '');
  if (transport !== 'tcp' && transport !== 'udp' && transport !== 'tls') throw new Error(`exporters.gelf.url: unknown transport ${transport}`);
  return { transport, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port) };
}

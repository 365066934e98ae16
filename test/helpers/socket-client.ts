import { createConnection } from 'node:net';

/** One connection: write everything, close, resolve when the daemon has closed its side too. */
export function sendOnce(socketPath: string, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection(socketPath, () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

/**
 * Sends `lines` split over `connections` concurrent connections, each writing its share in
 * order (like a pool of PHP workers). Returns the lines in the order each connection sent them.
 */
export async function sendOverConnections(socketPath: string, lines: string[], connections: number): Promise<string[][]> {
  const shares: string[][] = Array.from({ length: connections }, () => []);
  lines.forEach((line, i) => shares[i % connections]?.push(line));
  await Promise.all(shares.map((share) => sendOnce(socketPath, share.join(''))));
  return shares;
}

/** PHP-FPM style: one connection per message, `concurrency` at a time. Counts failures by code. */
export async function sendEachOnItsOwnConnection(
  socketPath: string,
  lines: string[],
  concurrency: number,
): Promise<{ failures: Record<string, number> }> {
  const failures: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < lines.length) {
        const line = lines[next++] as string;
        try {
          await sendOnce(socketPath, line);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
          failures[code] = (failures[code] ?? 0) + 1;
        }
      }
    }),
  );
  return { failures };
}

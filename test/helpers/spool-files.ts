import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every line of every finished spool segment, in segment-name (FIFO) order. */
export function spoolLines(dataDir: string): string[] {
  const dir = join(dataDir, 'buffer');
  const out: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ndjson')).sort()) {
    const text = readFileSync(join(dir, name), 'utf8');
    for (const line of text.split('\n')) if (line !== '') out.push(line);
  }
  return out;
}

export function spoolIds(dataDir: string): string[] {
  return spoolLines(dataDir).map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id);
}

export function spoolFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'buffer')).sort();
}

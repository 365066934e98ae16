// Dashboard build: `vite build --config dashboard/vite.config.ts` (part of `npm run build`).
// Output goes to dist/dashboard, which the listener serves at `/`. No CDN: every asset is bundled.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/dashboard', import.meta.url));
/** Issue 6: the first load must stay under 250 KB gzipped. */
const BUDGET_GZIP_BYTES = 250 * 1024;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

/** Prints every output file's raw and gzipped size, and fails the build over the budget. */
function sizeBudget(): Plugin {
  return {
    name: 'bitville-size-budget',
    apply: 'build',
    closeBundle() {
      let total = 0;
      for (const f of files(outDir).filter((p) => /\.(js|css|html)$/.test(p))) {
        const raw = readFileSync(f);
        const gz = gzipSync(raw, { level: 9 }).length;
        total += gz;
        console.log(`  ${f.slice(outDir.length + 1).padEnd(40)} ${(raw.length / 1024).toFixed(1).padStart(7)} KB  gzip ${(gz / 1024).toFixed(1).padStart(6)} KB`);
      }
      console.log(`dashboard first load: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_GZIP_BYTES / 1024} KB)`);
      if (total > BUDGET_GZIP_BYTES) throw new Error(`dashboard is ${total} bytes gzipped, over the ${BUDGET_GZIP_BYTES} byte budget`);
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  plugins: [sizeBudget()],
});

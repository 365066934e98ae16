import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import type { PgStoreSettings } from '../listener/store/postgres/pg-connection.js';
import { createLogger } from '../shared/telemetry/logger.js';

interface MigrateFlags {
  from: string;
  to: string;
  batch: string;
  sslmode?: string;
  sslRootCert?: string;
}

/** `bitville-apm store migrate --from sqlite:PATH --to postgres://…` (DESIGN section 11). */
export function registerStoreCommand(program: Command): void {
  const store = program.command('store').description('work on a listener store');
  store
    .command('migrate')
    .description('copy a SQLite store into PostgreSQL; resumable (rerun after an interruption) and idempotent (a second run adds nothing)')
    .requiredOption('--from <sqlite:PATH>', 'the SQLite store, e.g. sqlite:/var/lib/bitville-listener/listener.db')
    .requiredOption('--to <postgres://…>', 'the PostgreSQL database (as store.url: user@host:port/db, ?host=/socket/dir, ?sslmode=)')
    .option('--batch <rows>', 'rows per transaction', '1000')
    .option('--sslmode <mode>', 'disable | require | verify-ca | verify-full (as store.sslmode)')
    .option('--ssl-root-cert <file>', 'CA file for verify-ca / verify-full (as store.sslRootCert)')
    .action(async (f: MigrateFlags) => {
      if (!f.from.startsWith('sqlite:')) fail(`--from = "${f.from}": expected sqlite:<path of listener.db>`);
      const batch = Number(f.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) fail(`--batch = "${f.batch}": expected a whole number from 1 to 10000`);
      let file: string;
      try {
        file = realpathSync(f.from.slice('sqlite:'.length));
      } catch (err) {
        fail(`--from = "${f.from}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      // Loaded here: other subcommands must not pay for the drivers.
      const { pgTarget, redactUrl } = await import('../listener/store/postgres/pg-connection.js');
      const { copySqliteToPostgres } = await import('../listener/store/store-copy.js');
      const t = pgTarget({ url: f.to, poolSize: 2, connectTimeoutMs: 10_000, statementTimeoutMs: 0, sslmode: (f.sslmode ?? null) as PgStoreSettings['sslmode'], sslRootCert: f.sslRootCert ?? null, sslCert: null, sslKey: null });
      if (!t.ok) fail(t.message.replace(/^store\.url/, '--to'));
      console.log(`copying ${file} into ${t.target.display} (${redactUrl(f.to)})`);
      const started = Date.now();
      try {
        const report = await copySqliteToPostgres({
          from: file,
          to: t.target,
          batch,
          log: createLogger({ level: 'warn', format: 'json' }),
          progress: (p) => process.stdout.write(p.table === 'projects' ? '' : `${p.table}: ${p.read} of ${p.of} read, ${p.copied} copied\n`),
        });
        const lines = Object.entries(report).map(([table, r]) => (table === 'projects' ? `  projects: ${r.read} merged` : `  ${table}: ${r.copied} copied, ${r.read - r.copied} already there`));
        console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s:\n${lines.join('\n')}`);
      } catch (err) {
        console.error(`store migrate failed: ${(err as Error).message.replace(/^store\.url/, '--to')}\nNothing half-done is left: rerun the same command to resume.`);
        process.exit(1);
      }
    });
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

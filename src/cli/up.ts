import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { createRoleKeeper, type RoleKeeper } from './role-keeper.js';
import { plainMessage } from './fatal.js';
import { createDemoTraffic, DEMO_DEFAULTS, type DemoTraffic } from './demo-traffic.js';

interface UpFlags {
  dir: string;
  listen: string;
  health: string;
  demo?: boolean;
}

/** What `up` writes to `<dir>/up.json` for scripts (DESIGN section 1). */
export interface UpInfo {
  socket: string;
  inbox: string;
  listenerUrl: string;
  dashboardUrl: string;
  token: string;
  health: string;
  phpInclude: string | null;
}

export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run a listener (embedded SQLite) and a daemon forwarding to it, all state under --dir')
    .option('--dir <dir>', 'state folder', './.bitville')
    .option('--listen <host:port>', 'listener address', '127.0.0.1:8443')
    .option('--health <host:port>', 'daemon health address', '127.0.0.1:9191')
    .option('--demo', `also drive synthetic PHP-shaped traffic into the daemon (project "${DEMO_DEFAULTS.project}")`)
    .action(async (flags: UpFlags) => {
      try {
        await up(flags);
      } catch (err) {
        console.error(`bitville-apm up: ${plainMessage(err)}`);
        await stopAll(keepers); // a listener that started must not outlive a daemon that could not
        process.exit(1);
      }
    });
}

async function up(flags: UpFlags): Promise<void> {
  const dir = resolve(flags.dir);
  mkdirSync(dir, { recursive: true });
  const token = loadOrCreateToken(join(dir, 'token'));
  const notice = (line: string): void => void process.stderr.write(`${line}\n`);

  const listenerDir = join(dir, 'listener');
  const listenerYaml = join(dir, 'listener.yaml');
  const listenerConfig = { listen: flags.listen, dataDir: listenerDir, tokens: { [token]: ['*'] } };
  writeFileSync(listenerYaml, stringify(listenerConfig));
  const listenerLog = join(dir, 'listener.log');
  const listener = createRoleKeeper<{ pid: number; url: string }>({
    name: 'listener',
    args: ['listener', '--config', listenerYaml],
    logFile: listenerLog,
    readyFile: join(listenerDir, 'listener.json'),
    notice,
  });
  keepers.push(listener);
  stopOnSignals();
  const { url: listenerUrl } = await listener.start();
  // A restarted listener must come back where the daemon sends: pin a port 0 to the one it got.
  writeFileSync(listenerYaml, stringify({ ...listenerConfig, listen: new URL(listenerUrl).host }));

  const daemonDir = join(dir, 'daemon');
  const socket = join(dir, 'daemon.sock');
  const daemonYaml = join(dir, 'daemon.yaml');
  const daemonConfig = { socket, dataDir: daemonDir, health: flags.health, forward: { url: listenerUrl, token } };
  writeFileSync(daemonYaml, stringify(daemonConfig));
  const daemonLog = join(dir, 'daemon.log');
  const daemon = createRoleKeeper<{ pid: number; health: string }>({
    name: 'daemon',
    args: ['daemon', '--config', daemonYaml],
    logFile: daemonLog,
    readyFile: join(daemonDir, 'state', 'daemon.json'),
    notice,
  });
  keepers.unshift(daemon); // stopped first, so it can forward and flush while the listener still runs
  const { health } = await daemon.start();
  writeFileSync(daemonYaml, stringify({ ...daemonConfig, health })); // same pinning for /health

  const includeFile = resolve(new URL('../../../clients/php/bitville-apm.php', import.meta.url).pathname);
  const phpInclude = existsSync(includeFile) ? includeFile : null; // absent in a package built without clients/
  const info: UpInfo = {
    socket,
    inbox: join(daemonDir, 'inbox'),
    listenerUrl,
    dashboardUrl: `${listenerUrl}/`,
    token,
    health: `http://${health}`,
    phpInclude,
  };
  writeFileSync(join(dir, 'up.json'), JSON.stringify(info, null, 2) + '\n');
  console.log(
    [
      'Bitville APM is up.',
      phpInclude
        ? `  PHP include:   require_once '${phpInclude}';\n                 with BITVILLE_APM_DAEMON_SOCKET_PATH=${socket} and BITVILLE_APM_INBOX_PATH=${info.inbox}`
        : '  PHP include:   clients/php/bitville-apm.php is missing from this install; any agent writing NDJSON to the socket works',
      `  daemon socket: ${socket}`,
      `  daemon health: http://${health}/health`,
      `  listener API:  ${listenerUrl}/api/v1/requests  (Authorization: Bearer ${token})`,
      `  dashboard:     ${info.dashboardUrl}`,
      `  logs:          ${daemonLog}, ${listenerLog}`,
      flags.demo
        ? `  demo:          sending synthetic PHP traffic (project "${DEMO_DEFAULTS.project}"); try ${listenerUrl}/api/v1/stats/endpoints?project=${DEMO_DEFAULTS.project}`
        : `  try:           npx bitville-apm send --count 3   then   npx bitville-apm status   (or: up --demo)`,
      'Ctrl-C stops both (the daemon flushes to its spool first). A part that exits is restarted.',
    ].join('\n'),
  );
  if (flags.demo) {
    const demo = createDemoTraffic({ socket });
    demo.start();
    beforeStop.push(demo);
  }
}

/** The running roles, daemon first. */
const keepers: RoleKeeper<unknown>[] = [];
let stoppingRequested = false;
/** Stopped before the children, so nothing writes to a daemon that is going away. */
const beforeStop: DemoTraffic[] = [];

function stopOnSignals(): void {
  const onSignal = (): void => {
    if (stoppingRequested) process.exit(1); // second signal: now
    stoppingRequested = true;
    void stopAll(keepers).then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** One after the other, in order: the daemon first, so nothing it holds is cut off from the listener. */
async function stopAll(keepers: RoleKeeper<unknown>[]): Promise<void> {
  await Promise.all(beforeStop.map((d) => d.stop()));
  for (const k of keepers) await k.stop();
}

function loadOrCreateToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

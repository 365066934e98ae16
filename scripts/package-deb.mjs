// `npm run package`: a Debian package of the built tree (run after `npm run build`), with its own
// Node runtime so hosts without Node 20 (Debian 12 ships 18) work. No network: the runtime is this
// machine's node binary (the official build: it needs only libc, libstdc++ and libgcc), and the
// production dependencies are copied from node_modules. Layout and reasons: docs/deploy.md.
//
//   node scripts/package-deb.mjs [--out dir] [--version 0.1.1]
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'build' }, version: { type: 'string' } } });
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
// A Debian revision (-1): the package is built from an upstream release, not a native Debian one.
const version = args.version ?? `${pkg.version}-1`;
const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const name = 'bitville-apm';
const outDir = resolve(repo, args.out);
const stage = join(outDir, 'deb-root');
const opt = join(stage, 'opt', name);
const DPKG = join(stage, 'DEBIAN');

if (!existsSync(join(repo, 'dist', 'src', 'cli', 'main.js'))) throw new Error('run `npm run build` first');
rmSync(stage, { recursive: true, force: true });
const file = (path, text, mode = 0o644) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
};
const copy = (from, to) => cpSync(join(repo, from), to, { recursive: true, dereference: true });

// The application: compiled code, dashboard, PHP client, docs, and production dependencies only.
copy('dist/src', join(opt, 'dist', 'src'));
if (existsSync(join(repo, 'dist', 'dashboard'))) copy('dist/dashboard', join(opt, 'dist', 'dashboard'));
copy('clients', join(opt, 'clients'));
copy('docs', join(opt, 'docs'));
copy('package.json', join(opt, 'package.json'));
for (const f of execFileSync('find', [join(opt, 'dist'), '(', '-name', '*.test.js', '-o', '-name', '*.test.js.map', '-o', '-name', 'test-harness.js*', ')'], { encoding: 'utf8' }).split('\n').filter(Boolean)) rmSync(f);
const prodDirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repo, encoding: 'utf8' }).split('\n').filter((d) => d.includes('node_modules'));
for (const d of prodDirs) cpSync(d, join(opt, relative(repo, d)), { recursive: true, dereference: true });
// better-sqlite3 keeps its C sources and object files next to the one .node file it loads.
const bs = join(opt, 'node_modules', 'better-sqlite3');
for (const junk of ['deps', 'src', 'build/Release/obj', 'build/Release/obj.target', 'build/Release/.deps', 'build/Release/test_extension.node', 'build/deps']) rmSync(join(bs, junk), { recursive: true, force: true });
chmodSync(join(bs, 'build', 'Release', 'better_sqlite3.node'), 0o644); // a shared library, not a program
// Development files of the modules (tests, lint configs, docs pages that load scripts from CDNs).
const junkNames = ['.npmignore', '.eslintrc', '.eslintrc.yml', '.eslintrc.json', '.eslintrc.js', '.editorconfig', '.travis.yml', '.github', 'test', 'tests', 'integration', 'benchmarks', 'bench', 'example', 'examples', 'index.html'];
// Anywhere under node_modules, as node-prune does (nested copies have them too).
const findArgs = [join(opt, 'node_modules'), '-mindepth', '2', '(', ...junkNames.flatMap((n, i) => (i === 0 ? ['-name', n] : ['-o', '-name', n])), ')', '-prune', '-print'];
for (const f of execFileSync('find', findArgs, { encoding: 'utf8' }).split('\n').filter(Boolean)) rmSync(f, { recursive: true, force: true });

// Its own Node runtime, and the command on PATH.
mkdirSync(join(opt, 'node', 'bin'), { recursive: true });
cpSync(process.execPath, join(opt, 'node', 'bin', 'node'));
chmodSync(join(opt, 'node', 'bin', 'node'), 0o755);
file(join(stage, 'usr', 'bin', name), `#!/bin/sh\n# Bitville APM with its bundled Node runtime (/opt/${name}/node).\n# BITVILLE_APM_NODE_FLAGS: V8 flags (the daemon's unit sets them), split into words.\nexec /opt/${name}/node/bin/node $BITVILLE_APM_NODE_FLAGS /opt/${name}/dist/src/cli/main.js "$@"\n`, 0o755);

// systemd units: the repository's (written for an npm install), pointed at /usr/bin/bitville-apm.
// The daemon's .socket ships disabled: enabling it makes the daemon one socket-activated process.
const units = [...['daemon', 'listener', 'pg-agent'].map((r) => `${name}-${r}.service`), `${name}-daemon.socket`].filter((u) => existsSync(join(repo, 'deploy', 'systemd', u)));
for (const u of units) {
  const text = readFileSync(join(repo, 'deploy', 'systemd', u), 'utf8')
    .replace(/\/usr\/bin\/node (\$BITVILLE_APM_NODE_FLAGS )?\/usr\/lib\/node_modules\/bitville-apm\/dist\/src\/cli\/main\.js/g, `/usr/bin/${name}`)
    .replace(/file:\/\/\/usr\/lib\/node_modules\/bitville-apm\//g, `file:///opt/${name}/`)
    .replace(/^# {3}(useradd|install -m).*\n/gm, ''); // the package does those steps
  file(join(stage, 'lib', 'systemd', 'system', u), text);
}

// Example configs, marked as conffiles: an upgrade keeps the operator's edits.
const confs = ['daemon.yaml', 'listener.yaml', 'pg-agent.yaml'].filter((c) => existsSync(join(repo, 'deploy', 'config', c)));
for (const c of confs) file(join(stage, 'etc', name, c), readFileSync(join(repo, 'deploy', 'config', c), 'utf8'), 0o640);
const share = join(stage, 'usr', 'share', name, 'examples');
copy('deploy/php-fpm/bitville-apm-pool.conf', join(share, 'php-fpm-pool.conf'));
copy('deploy/config/profiling.ini', join(share, 'profiling.ini'));

// Debian documentation and the lintian exceptions, each with its reason.
const doc = join(stage, 'usr', 'share', 'doc', name);
file(join(doc, 'copyright'), `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: ${name}\n\nFiles: *\nCopyright: 2026 Bitville APM authors\nLicense: MIT\n\nFiles: opt/${name}/node/*\nCopyright: Node.js contributors and others, see opt/bitville-apm/node\nLicense: MIT\n\nFiles: opt/${name}/node_modules/*\nCopyright: the authors of each module, see its package.json\nLicense: MIT and compatible licenses, see each module\n\nLicense: MIT\n Permission is hereby granted, free of charge, to any person obtaining a copy of this\n software, to deal in the software without restriction (the full MIT license text).\n`);
writeFileSync(join(doc, 'changelog.Debian.gz'), gzipSync(`${name} (${version}) unstable; urgency=medium\n\n  * Built by npm run package.\n\n -- Bitville APM <apm@bitville.invalid>  ${new Date().toUTCString().replace('GMT', '+0000')}\n`, { level: 9 }));
copy('deploy/debian/lintian-overrides', join(stage, 'usr', 'share', 'lintian', 'overrides', name));

// Maintainer scripts and control data.
for (const s of ['postinst', 'postrm']) file(join(DPKG, s), readFileSync(join(repo, 'deploy', 'debian', s), 'utf8'), 0o755);
file(join(DPKG, 'conffiles'), confs.map((c) => `/etc/${name}/${c}\n`).join(''));
const installedKb = Number(execFileSync('du', ['-sk', '--exclude=DEBIAN', stage], { encoding: 'utf8' }).split('\t')[0]);
file(
  join(DPKG, 'control'),
  [
    `Package: ${name}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: Bitville APM <apm@bitville.invalid>',
    `Installed-Size: ${installedKb}`,
    'Depends: libc6 (>= 2.28), libstdc++6 (>= 8), libgcc-s1, passwd',
    'Section: net',
    'Priority: optional',
    'Homepage: https://github.com/bitville/bitville-apm',
    'Description: APM pipeline for PHP: agent daemon, listener, PHP client',
    ' Finds the requests, functions and SQL queries behind the load spikes of PHP',
    ' servers. The agent daemon buffers and spools profiles sent by the PHP client',
    ' and forwards them to a central listener (SQLite or PostgreSQL, dashboard).',
    ' Ships its own Node.js runtime in /opt/bitville-apm/node.',
    '',
  ].join('\n'),
);

mkdirSync(outDir, { recursive: true });
const deb = join(outDir, `${name}_${version}_${arch}.deb`);
execFileSync('fakeroot', ['dpkg-deb', '-Zgzip', '-z6', '--build', '--root-owner-group', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
console.log(deb);

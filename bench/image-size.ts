/**
 * `npm run bench:image`: what gloo-guard puts into its image, measured without Docker. The Dockerfile
 * is read (bench/dockerfile.ts), its deps stage's `npm ci` runs in one temporary directory and its
 * build stage's commands in another, and the paths the runtime stage copies are measured. Writes
 * bench/results/image.json and image.md. The distroless base is not fetched, so only our layers count.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { ROOT, sourceCommit } from './build.js';
import { readImagePlan, type ImagePlan } from './dockerfile.js';
import {
  renderImageMarkdown,
  type DirectDependency,
  type Footprint,
  type ImageResults,
  type LayerSize,
  type PackageSize,
} from './image-report.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a command read from the Dockerfile; a failure is one line with the command and its last output line. */
function run(command: string[], cwd: string): string {
  const [file, ...args] = command as [string, ...string[]];
  const r = spawnSync(file, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) {
    const last = `${r.stderr}${r.stdout}`.trim().split('\n').at(-1) ?? '';
    throw new Error(`\`${command.join(' ')}\` failed (exit ${r.status}): ${last}`);
  }
  return r.stdout.trim();
}

/** A temporary stage directory holding the context files the stage copies. */
function stageDir(label: string, files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `gloo-guard-image-${label}-`));
  for (const f of files) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  return dir;
}

/** Files and bytes under a path, `du`-like: lstat, each inode once, symlinks as themselves. */
export function footprint(path: string, skip: (p: string) => boolean = () => false): Footprint {
  const seen = new Set<string>();
  const total: Footprint = { files: 0, apparentBytes: 0, diskBytes: 0 };
  const walk = (p: string): void => {
    const s = lstatSync(p);
    const inode = `${s.dev}:${s.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    if (!s.isDirectory()) total.files += 1;
    total.apparentBytes += s.isDirectory() ? 0 : s.size;
    total.diskBytes += s.blocks * 512;
    if (s.isDirectory()) for (const name of readdirSync(p)) if (!skip(join(p, name))) walk(join(p, name));
  };
  walk(path);
  return total;
}

/**
 * Type declarations in node_modules (`*.d.ts` and everything under `@types/`): Node never loads them,
 * so they are the part of the layer a runtime does not need.
 */
export function declarations(nodeModules: string): Footprint {
  const total: Footprint = { files: 0, apparentBytes: 0, diskBytes: 0 };
  const walk = (p: string, inTypes: boolean): void => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const child = join(p, e.name);
      if (e.isDirectory()) walk(child, inTypes || (e.name === '@types' && p.endsWith('node_modules')));
      else if (inTypes || /\.d\.[cm]?ts$/.test(e.name)) {
        const s = lstatSync(child);
        total.files += 1;
        total.apparentBytes += s.size;
        total.diskBytes += s.blocks * 512;
      }
    }
  };
  walk(nodeModules, false);
  return total;
}

/** Bytes of a sorted, owner-0, mtime-0 tar of `source` (named as `target` inside), and of its gzip. */
async function tarSizes(
  dir: string,
  source: string,
  target: string,
): Promise<{ tarBytes: number; tarGzipBytes: number }> {
  const escaped = source.replace(/[.]/g, '\\.');
  const tar = spawn(
    'tar',
    [
      '-C',
      dir,
      '--sort=name',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--mtime=@0',
      // 512-byte records, as Go's archive/tar (Docker) writes, not GNU tar's default 10 KiB.
      '--blocking-factor=1',
      `--transform=s,^${escaped},${target.slice(1)},`,
      '-cf',
      '-',
      source,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const gzip = createGzip({ level: 6 });
  let tarBytes = 0;
  let tarGzipBytes = 0;
  tar.stdout.on('data', (c: Buffer) => (tarBytes += c.length));
  gzip.on('data', (c: Buffer) => (tarGzipBytes += c.length));
  tar.stdout.pipe(gzip);
  const [code] = await Promise.all([
    new Promise<number | null>((resolve) => tar.once('close', resolve)),
    new Promise<void>((resolve) => gzip.once('end', resolve)),
  ]);
  if (code !== 0) throw new Error(`tar of ${source} failed (exit ${code})`);
  return { tarBytes, tarGzipBytes };
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Where `name`, required from the package at `from`, resolves: Node's lookup up the node_modules chain. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/** Every installed package `start` reaches, itself included (from node_modules/.package-lock.json). */
function closure(packages: Record<string, LockEntry>, start: string): Set<string> {
  const out = new Set<string>();
  const todo = [start];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    if (out.has(p)) continue;
    out.add(p);
    const e = packages[p]!;
    const names = Object.keys({ ...e.dependencies, ...e.optionalDependencies, ...e.peerDependencies });
    for (const n of names) {
      const r = resolveIn(packages, p, n);
      if (r !== undefined) todo.push(r);
    }
  }
  return out;
}

/** Sizes of every installed package, the ten largest, and what each direct dependency pulls in. */
export function packageSizes(
  appDir: string,
  direct: readonly string[],
): { packages: ImageResults['packages']; directDependencies: DirectDependency[] } {
  const lock = JSON.parse(readFileSync(join(appDir, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const packages = lock.packages;
  const sizes = new Map<string, Footprint>();
  for (const path of Object.keys(packages)) {
    const nested = join(appDir, path, 'node_modules');
    sizes.set(
      path,
      footprint(join(appDir, path), (p) => p === nested),
    );
  }
  const closures = new Map(direct.map((d) => [d, closure(packages, `node_modules/${d}`)]));
  const requiredBy = (path: string): string[] => direct.filter((d) => closures.get(d)!.has(path));
  const bytes = (paths: Iterable<string>): number =>
    [...paths].reduce((n, p) => n + sizes.get(p)!.apparentBytes, 0);
  const largest: PackageSize[] = [...sizes.entries()]
    .sort((a, b) => b[1].apparentBytes - a[1].apparentBytes)
    .slice(0, 10)
    .map(([path, s]) => ({
      path,
      version: packages[path]!.version ?? '',
      ...s,
      requiredBy: requiredBy(path),
    }));
  const directDependencies = direct.map((name) => {
    const own = closures.get(name)!;
    const exclusive = [...own].filter((p) => requiredBy(p).length === 1);
    return { name, closurePackages: own.size, closureBytes: bytes(own), exclusiveBytes: bytes(exclusive) };
  });
  return { packages: { count: sizes.size, largest }, directDependencies };
}

/** Runs the two stages the runtime copies from, recording each stage's directory by name in `dirs`. */
function buildStages(plan: ImagePlan, dirs: Map<string, string>): void {
  const deps = stageDir('deps', plan.deps.contextFiles);
  dirs.set(plan.deps.name, deps);
  // The npm cache may serve the tarballs: the lock's integrity hashes make the install the same.
  log(`deps stage: ${plan.deps.install.join(' ')} (--prefer-offline added)`);
  run([...plan.deps.install, '--prefer-offline'], deps);
  const build = stageDir('build', plan.build.contextFiles);
  dirs.set(plan.build.name, build);
  // The build stage's own npm ci only brings the compiler; the worktree's dev install stands in for it.
  symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'));
  for (const c of plan.build.commands) {
    log(`build stage: ${c.join(' ')}`);
    run(c, build);
  }
}

async function measure(plan: ImagePlan, dirs: Map<string, string>): Promise<ImageResults> {
  const layers: LayerSize[] = [];
  for (const c of plan.copies) {
    const dir = dirs.get(c.stage)!;
    log(`measuring ${c.target} (from ${c.stage}:${c.source})`);
    const size = footprint(join(dir, c.sourceInStage));
    layers.push({
      target: c.target,
      from: `${c.stage}:${c.source}`,
      ...size,
      ...(await tarSizes(dir, c.sourceInStage, c.target)),
    });
  }
  const sum = (k: keyof LayerSize & keyof ImageResults['total']): number =>
    layers.reduce((n, l) => n + l[k], 0);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return {
    generatedAt: new Date().toISOString(),
    commit: sourceCommit(),
    node: process.versions.node,
    npm: run(['npm', '--version'], ROOT),
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    base: plan.base,
    commands: { deps: plan.deps.install.join(' '), build: plan.build.commands.map((c) => c.join(' ')) },
    layers,
    total: {
      files: sum('files'),
      apparentBytes: sum('apparentBytes'),
      diskBytes: sum('diskBytes'),
      tarBytes: sum('tarBytes'),
      tarGzipBytes: sum('tarGzipBytes'),
    },
    ...packageSizes(dirs.get(plan.deps.name)!, Object.keys(pkg.dependencies)),
    declarations: declarations(join(dirs.get(plan.deps.name)!, 'node_modules')),
  };
}

async function main(): Promise<void> {
  const plan = readImagePlan(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  log(
    `base image ${plan.base}: not fetched here (no Docker engine, no registry), so only our layers are measured`,
  );
  const dirs = new Map<string, string>();
  try {
    buildStages(plan, dirs);
    const results = await measure(plan, dirs);
    const out = join(ROOT, 'bench', 'results');
    writeFileSync(join(out, 'image.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = renderImageMarkdown(results);
    writeFileSync(join(out, 'image.md'), md);
    log(md);
  } finally {
    for (const d of dirs.values()) rmSync(d, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench:image failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

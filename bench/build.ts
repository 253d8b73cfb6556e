/**
 * Builds what the benchmark runs, each cached under .cache/ and rebuilt only when its inputs change:
 * OPA from the Go module proxy (bench/opa), gloo-guard with tsc (as `npm run build` would, into
 * .cache/bench-dist so a developer's dist/ is left alone), and the limit server.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** The repository root (bench/ is one level below). */
export const ROOT = join(import.meta.dirname, '..');

/** Which gloo-guard was measured: the short commit, and how many files of src/ were uncommitted. */
export function sourceCommit(): string {
  const git = (args: string[]): string =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = git(['status', '--porcelain', '--', 'src'])
    .split('\n')
    .filter((l) => l !== '').length;
  return `${git(['rev-parse', '--short', 'HEAD']) || 'unknown'}${dirty > 0 ? ` with ${dirty} uncommitted files in src/` : ''}`;
}
export const CACHE = join(ROOT, '.cache');
export const BIN_DIR = join(CACHE, 'bench-bin');
const OPA_DIR = join(ROOT, 'bench', 'opa');

/** What a build step reports. */
export interface BuildInfo {
  path: string;
  /** Seconds spent building in this run; 0 when the cached build was used. */
  buildSeconds: number;
  cached: boolean;
}

function hashFiles(files: readonly string[], extra = ''): string {
  const h = createHash('sha256').update(extra);
  for (const f of files) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

function listFiles(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 20) return;
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (ext.test(name)) out.push(p);
    }
  };
  walk(dir, 0);
  return out;
}

function stampOk(stamp: string, hash: string, output: string): boolean {
  return existsSync(output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The OPA version the wrapper module pins. */
export function opaModuleVersion(): string {
  const mod = readFileSync(join(OPA_DIR, 'go.mod'), 'utf8');
  return /github\.com\/open-policy-agent\/opa (v[\w.-]+)/.exec(mod)?.[1] ?? 'unknown';
}

/**
 * Builds OPA from the Go module proxy with the wrapper module in bench/opa; reuses the binary while
 * the wrapper and the Go toolchain are unchanged. Prints progress: a cold build takes minutes.
 */
export async function buildOpa(): Promise<BuildInfo> {
  mkdirSync(BIN_DIR, { recursive: true });
  const output = join(BIN_DIR, 'opa');
  const stamp = `${output}.stamp`;
  const goVersion = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (goVersion.status !== 0) throw new Error('Go is needed to build OPA; install Go 1.23 or later');
  const inputs = ['go.mod', 'go.sum', 'main.go'].map((f) => join(OPA_DIR, f));
  const hash = hashFiles(inputs, goVersion.stdout);
  if (stampOk(stamp, hash, output)) return { path: output, buildSeconds: 0, cached: true };
  log(
    `building OPA ${opaModuleVersion()} from the Go module proxy into ${relative(ROOT, output)} (a cold build takes 2-4 minutes)`,
  );
  const start = Date.now();
  let packages = 0;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['build', '-v', '-trimpath', '-ldflags=-s -w', '-o', output, '.'], {
      cwd: OPA_DIR,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      const text = c.toString();
      stderr = (stderr + text).slice(-4000);
      packages += text.split('\n').filter((l) => /^[\w.-]+(\/[\w.~-]+)+$/.test(l.trim())).length;
    });
    const ticker = setInterval(() => {
      log(
        `  still building OPA: ${Math.round((Date.now() - start) / 1000)} s, ${packages} packages compiled`,
      );
    }, 10_000);
    child.once('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`go build of OPA failed (exit ${code}):\n${stderr}`));
    });
    child.once('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
  });
  writeFileSync(stamp, hash);
  const buildSeconds = Math.round((Date.now() - start) / 100) / 10;
  log(`  OPA built in ${buildSeconds} s (${packages} packages)`);
  return { path: output, buildSeconds, cached: false };
}

/** The version line `opa version` prints. */
export function opaVersion(binary: string): string {
  const r = spawnSync(binary, ['version'], { encoding: 'utf8' });
  return /^Version: (.+)$/m.exec(r.stdout)?.[1]?.trim() ?? 'unknown';
}

/**
 * Compiles gloo-guard with tsc (tsconfig.build.json) into .cache/bench-dist, the same JavaScript
 * `npm run build` produces, so the server runs as it does in production: `node cli/main.js serve`.
 */
export function buildGlooGuard(): BuildInfo {
  const outDir = join(CACHE, 'bench-dist');
  const output = join(outDir, 'cli', 'main.js');
  const stamp = join(outDir, '.stamp');
  const inputs = [
    ...listFiles(join(ROOT, 'src'), /\.ts$/),
    join(ROOT, 'tsconfig.json'),
    join(ROOT, 'tsconfig.build.json'),
  ];
  const hash = hashFiles(inputs);
  if (stampOk(stamp, hash, output)) return { path: output, buildSeconds: 0, cached: true };
  log('compiling gloo-guard (tsc -p tsconfig.build.json) into .cache/bench-dist');
  const start = Date.now();
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (!existsSync(output)) throw new Error(`tsc failed and emitted nothing:\n${r.stdout}${r.stderr}`);
    log(
      `  warning: tsc reported errors (src/ is being edited?); running what it emitted:\n${r.stdout.slice(0, 2000)}`,
    );
  } else {
    writeFileSync(stamp, hash);
  }
  return { path: output, buildSeconds: Math.round((Date.now() - start) / 100) / 10, cached: false };
}

/** Transpiles the limit server (node built-ins only) to one JavaScript file, so it runs on plain node. */
export function buildLimitServer(): BuildInfo {
  mkdirSync(BIN_DIR, { recursive: true });
  const source = join(ROOT, 'bench', 'limit-server.ts');
  const output = join(BIN_DIR, 'limit-server.mjs');
  const js = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(output, js);
  return { path: output, buildSeconds: 0, cached: false };
}

/**
 * Kyverno 1.19 as a second peer for the release case, run by `npm run bench` (beside OPA) and by
 * `npm run bench:kyverno` alone. Builds a harness around Kyverno's own CEL ValidatingPolicy engine
 * (bench/kyverno/build.sh), checks that Kyverno's policy (bench/kyverno/release-policy.yaml) and
 * gloo-guard give the same verdicts on the same release Secrets, then times both in process on the
 * benchmark's small release, large release and gzip bomb, the engines taking turns on the server core, and
 * writes bench/results/kyverno.{json,md}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { buildGlooGuard, ROOT } from '../build.js';
import { policyIds } from '../parity.js';
import { SERVER_CORE } from '../processes.js';
import { loadReviews } from '../review-cache.js';
import type { ReviewSet } from '../reviews.js';
import { summarize } from '../stats.js';
import { parityReleases, type KyvernoCase } from './cases.js';
import type { JobResult } from './gloo-guard-runner.js';
import { profileGlooGuard } from './profile.js';
import { renderKyvernoMarkdown, type KyvernoResults, type ParityRow, type SpeedRow } from './report.js';

const HERE = join(ROOT, 'bench', 'kyverno');
const BUILD = join(HERE, 'build.sh');
const POLICY = join(HERE, 'release-policy.yaml');
const COVERED = ['no-insecure-relay', 'no-default-relay-ca'];

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** Runs bench/kyverno/build.sh; returns the harness's path and how long the build took. */
function buildKyverno(): { path: string; seconds: number; loadAverage: string } {
  const start = Date.now();
  const r = spawnSync(BUILD, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench/kyverno/build.sh failed (exit ${String(r.status)})`);
  const path = r.stdout.trim().split('\n').pop() ?? '';
  return { path, seconds: Math.round((Date.now() - start) / 100) / 10, loadAverage: load() };
}

/** A runner process (the Go harness or gloo-guard's), pinned to the server core, one job at a time. */
class Runner {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly early: string[] = [];
  private readonly pending: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = [];

  constructor(command: string, args: string[], env: Record<string, string> = {}) {
    const pinned = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
    const [cmd, argv] = pinned ? ['taskset', ['-c', String(SERVER_CORE), command, ...args]] : [command, args];
    this.child = spawn(cmd, argv, {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.lines = createInterface({ input: this.child.stdout! });
    // A line nobody awaits yet (a second runner's "ready" while the first starts) waits for its reader.
    this.lines.on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter === undefined) this.early.push(line);
      else waiter.resolve(line);
    });
    // One listener for the process's whole life: a reply still awaited when it exits never comes.
    this.child.once('exit', (code) => {
      for (const p of this.pending.splice(0)) p.reject(new Error(`runner exited (${String(code)})`));
    });
  }

  private next(): Promise<string> {
    const line = this.early.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  async ready(): Promise<void> {
    const line = await this.next();
    if (!line.includes('"ready"')) throw new Error(`runner did not start: ${line}`);
  }

  async job(name: string, file: string, runs: number): Promise<JobResult> {
    const reply = this.next();
    this.child.stdin!.write(`${name.replace(/\s+/g, '_')} ${file} ${String(runs)}\n`);
    return JSON.parse(await reply) as JobResult;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

type Engine = 'kyverno' | 'gloo-guard';

function runner(engine: Engine, harness: string): Runner {
  if (engine === 'kyverno') return new Runner(harness, ['-policy', POLICY]);
  return new Runner(process.execPath, ['--import', 'tsx', join(HERE, 'gloo-guard-runner.ts')], {
    GG_DIST: dirname(dirname(buildGlooGuard().path)),
  });
}

/** Rounds the runs of a review are split into, the engines taking turns. */
const ROUNDS = 10;

/**
 * Times both engines on one review in fresh processes (so each peak RSS is that review's alone),
 * taking turns round by round on the same core: load from other work then falls on both alike, and
 * their ratio holds on a busy machine where figures taken one after the other would not.
 */
async function interleaved(
  harness: string,
  name: string,
  file: string,
  runs: number,
): Promise<Record<Engine, JobResult>> {
  const engines = ['gloo-guard', 'kyverno'] as const;
  const runners = engines.map((e) => runner(e, harness));
  try {
    for (const r of runners) await r.ready();
    const out: Partial<Record<Engine, JobResult>> = {};
    const rounds = runs >= ROUNDS ? ROUNDS : 1;
    for (let round = 0; round < rounds; round++) {
      for (const [i, engine] of engines.entries()) {
        const j = await runners[i]!.job(name, file, Math.ceil(runs / rounds));
        const before = out[engine];
        out[engine] = before === undefined ? j : { ...j, timesMs: [...before.timesMs, ...j.timesMs] };
      }
    }
    return out as Record<Engine, JobResult>;
  } finally {
    for (const r of runners) await r.close();
  }
}

function verdictOf(j: JobResult): { allowed: boolean; denied: string[] } {
  return { allowed: j.verdict.allowed, denied: policyIds(j.verdict.messages.join('\n')) };
}

async function parity(harness: string, cases: KyvernoCase[], dir: string): Promise<ParityRow[]> {
  const results: Record<Engine, JobResult[]> = { kyverno: [], 'gloo-guard': [] };
  for (const engine of ['kyverno', 'gloo-guard'] as const) {
    const r = runner(engine, harness);
    await r.ready();
    for (const [i, c] of cases.entries())
      results[engine].push(await r.job(c.name, join(dir, `case-${i}.json`), 1));
    await r.close();
  }
  return cases.map((c, i) => {
    const k = results.kyverno[i]!;
    const g = results['gloo-guard'][i]!;
    const kv = verdictOf(k);
    const gv = verdictOf(g);
    return {
      name: c.name,
      kyverno: { ...kv, errors: k.verdict.errors, error: k.error },
      glooGuard: { ...gv, errors: g.verdict.errors, error: g.error },
      same: kv.allowed === gv.allowed && JSON.stringify(kv.denied) === JSON.stringify(gv.denied),
    };
  });
}

/** Small-release runs under the profiler: enough samples for functions of a few µs. */
const PROFILE_RUNS = 2000;

/** Runs per engine and review: enough for a stable median, bounded for the slow ones. */
const RUNS: Record<string, number> = { 'release-small': 400, 'release-large': 40, 'gzip-bomb': 1 };

/** The reviews both engines are timed on, in order. */
export const KYVERNO_REVIEWS = ['release-small', 'release-large', 'gzip-bomb'] as const;

/** Whether the harness is built, buildable (and how long that takes), or why not: build.sh's one line. */
export function kyvernoStatus(): { runnable: boolean; line: string } {
  const r = spawnSync(BUILD, ['--status'], { encoding: 'utf8' });
  const line =
    r.status === 0 ? r.stdout.trim() : `not buildable: ${BUILD} --status exited ${String(r.status)}`;
  return { runnable: /^(built|buildable)/.test(line), line };
}

/** What a Kyverno run does, one line per step, for `--check`. */
export function kyvernoPlan(skipBomb: boolean): string[] {
  const reviews = KYVERNO_REVIEWS.filter((n) => !(skipBomb && n === 'gzip-bomb'));
  return [
    `harness: ${kyvernoStatus().line}`,
    `parity: ${parityReleases().length + 2} release Secrets through both engines (bench/kyverno/cases.ts and the bench's two releases)`,
    ...reviews.map(
      (n) => `timing: ${n}, ${RUNS[n] ?? 1} runs per engine, the engines taking turns on core ${SERVER_CORE}`,
    ),
    `profile: gloo-guard on release-small under node --cpu-prof, ${PROFILE_RUNS} runs`,
    'writes bench/results/kyverno.{json,md}',
  ];
}

function speedRow(engine: Engine, review: string, j: JobResult): SpeedRow {
  // The first fifth of the runs warm up the JIT and the caches; the bomb is one cold run by design.
  const warm = j.timesMs.length > 1 ? j.timesMs.slice(Math.floor(j.timesMs.length / 5)) : j.timesMs;
  const s = summarize(warm);
  const mean = warm.reduce((a, b) => a + b, 0) / Math.max(1, warm.length);
  return {
    engine,
    review,
    runs: warm.length,
    p50Ms: s.p50,
    p99Ms: s.p99,
    perCoreRps: mean > 0 ? Math.round(1000 / mean) : 0,
    maxRssMiB: Math.round(j.maxRssKiB / 1024),
    allowed: j.verdict.allowed,
    outcome:
      j.error ?? (j.verdict.errors.length > 0 ? `error: ${j.verdict.errors.join('; ').slice(0, 160)}` : ''),
  };
}

function gitCommit(): string {
  const r = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'bench'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return `${r.stdout.trim()}${dirty.stdout.trim() === '' ? '' : ' (with uncommitted changes)'}`;
}

/**
 * Builds the harness when needed, checks parity, times both engines and profiles gloo-guard; writes
 * bench/results/kyverno.{json,md} and returns the results.
 */
export async function runKyverno(opts: {
  skipBomb: boolean;
  log: (line: string) => void;
  reviews?: ReviewSet;
}): Promise<KyvernoResults> {
  const { log } = opts;
  const build = buildKyverno();
  log(`Kyverno harness: ${build.path} (${build.seconds} s, load ${build.loadAverage})`);
  const reviews = opts.reviews ?? loadReviews();
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-kyverno-'));
  try {
    const cases = [
      ...parityReleases(),
      { name: 'bench release-small', body: reviews['release-small'].body },
      { name: 'bench release-large', body: reviews['release-large'].body },
    ];
    cases.forEach((c, i) => writeFileSync(join(dir, `case-${i}.json`), c.body));
    const parityRows = await parity(build.path, cases, dir);
    for (const p of parityRows) log(`parity ${p.same ? 'same' : 'DIFFERENT'}: ${p.name}`);
    const speed: SpeedRow[] = [];
    const names = KYVERNO_REVIEWS.filter((n) => !(opts.skipBomb && n === 'gzip-bomb'));
    for (const name of names) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, reviews[name].body);
      log(`timing gloo-guard and kyverno in turns on ${name} (${RUNS[name]} runs each, load ${load()})`);
      const jobs = await interleaved(build.path, name, file, RUNS[name] ?? 1);
      for (const engine of ['gloo-guard', 'kyverno'] as const)
        speed.push(speedRow(engine, name, jobs[engine]));
    }
    log(`profiling gloo-guard on release-small (load ${load()})`);
    const profile = await profileGlooGuard(reviews['release-small'].body, PROFILE_RUNS);
    const results: KyvernoResults = {
      commit: gitCommit(),
      date: new Date().toISOString(),
      kyvernoVersion: 'v1.19.1',
      build,
      loadAverage: load(),
      covered: COVERED,
      sizes: Object.fromEntries(names.map((n) => [n, reviews[n].secretBytes ?? reviews[n].body.length])),
      parity: parityRows,
      speed,
      profile,
    };
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'kyverno.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(out, 'kyverno.md'), renderKyvernoMarkdown(results));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

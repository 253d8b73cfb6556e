/**
 * `npm run bench [-- --quick] [-- --only deployment,namespace] [-- --check]`: gloo-guard against the limit (a bare Node server) and OPA, each pinned
 * to core 1 in turn while autocannon drives it from core 0 over HTTPS keep-alive; then Kyverno beside
 * gloo-guard on the releases, in process (bench/kyverno/compare.ts; one line says why when it cannot
 * run). `--check` lists what would run without starting anything. Writes
 * bench/results/latest.{json,md,svg} (quick runs: quick.*; runs of some reviews only: only.*, without the
 * mixed and memory scenarios). Every process started is stopped at the end.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release as kernelRelease, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import {
  BIN_DIR,
  buildGlooGuard,
  buildLimitServer,
  buildOpa,
  opaVersion,
  ROOT,
  sourceCommit,
} from './build.js';
import { machineBusy, readRss, waitForQuiet } from './memory.js';
import { parityCases, sameVerdict, type VerdictKey } from './parity.js';
import { FULL_PLAN, QUICK_PLAN, type Plan, type ServerName } from './plan.js';
import { installCleanup, pinSelf, runningCount, stop, stopAll } from './processes.js';
import {
  evaluateTargets,
  renderChart,
  renderMarkdown,
  summarizeRuns,
  type KyvernoSummary,
  type Results,
  type ServerRun,
} from './report.js';
import { kyvernoPlan, kyvernoStatus, runKyverno } from './kyverno/compare.js';
import { pairedRounds } from './paired.js';
import { loadReviews } from './review-cache.js';
import { GZIP_BOMB_EXPANDS_TO, type ReviewName, type ReviewSet } from './reviews.js';
import { gzipBombs, inFlight, mixed, OTHER_CPU_LIMIT, parity, preflight, sweep } from './scenarios.js';
import {
  ALL_REVIEWS,
  glooGuardDef,
  limitDef,
  opaDef,
  startServer,
  writeTls,
  type ServerDef,
  type TlsFiles,
} from './servers.js';

const RESULTS_DIR = join(ROOT, 'bench', 'results');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function machine(opa: string): Record<string, string | number> {
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    kernel: kernelRelease(),
    node: process.versions.node,
    go,
    opa,
    // Six helpers share this machine at times: every figure carries the load it was measured under.
    loadAverageAtStart: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

const METHOD: Record<string, string> = {
  pinning:
    'each server alone on core 1 (taskset -c 1); the driver (autocannon + probe + RSS sampler) on core 0',
  transport: 'HTTPS (TLS 1.3, one RSA-2048 certificate for all servers), HTTP/1.1 keep-alive, 127.0.0.1',
  load: 'autocannon closed loop: N connections, each sends the next review when the last is answered',
  latency: 'per response, from autocannon response events (exact percentiles, nearest rank)',
  memory: 'VmRSS polled every 5-20 ms plus VmHWM after resetting it (echo 5 > /proc/PID/clear_refs)',
  mixed:
    'Deployment and Namespace reviews paced at a fixed rate, timed from when each was due, while large releases saturate the server',
  opa: 'opa run --server with the Rego policies in bench/opa/policy; the default decision data.system.main answers POST / with an AdmissionReview',
};

interface Ctx {
  plan: Plan;
  reviews: ReviewSet;
  tls: TlsFiles;
  logDir: string;
  results: Results;
  /** The reviews measured (all unless --only); with a subset, the mixed and memory scenarios are skipped. */
  only?: ReviewName[];
  parityVerdicts: Partial<Record<ServerName, VerdictKey[]>>;
}

/** Waits for other processes to calm down before a server is measured, and notes it when they do not. */
async function quiet(ctx: Ctx, what: string): Promise<void> {
  // A quick run only looks; a full run waits (bounded) for other work to finish.
  const busy = ctx.plan.mode === 'full' ? await waitForQuiet(600, 0.1, say) : await machineBusy(500);
  if (busy >= 0.1) {
    const note = `The machine was ${Math.round(busy * 100)}% busy with other processes before ${what} was measured; its numbers are pessimistic.`;
    ctx.results.notes.push(note);
    say(`  warning: ${note}`);
  }
}

async function measureServer(ctx: Ctx, def: ServerDef): Promise<void> {
  say(`\n== ${def.label}`);
  await quiet(ctx, def.label);
  const s = await startServer(def, ctx.tls, ctx.logDir, ctx.reviews.namespace.body);
  say(`  started in ${s.startupMs} ms, idle RSS ${s.idleRssMiB.toFixed(1)} MiB`);
  const run: ServerRun = {
    name: def.name,
    label: def.label,
    color: def.color,
    command: def.display,
    startupMs: s.startupMs,
    idleRssMiB: Math.round(s.idleRssMiB * 10) / 10,
    lifetimePeakRssMiB: Number.NaN,
    preflight: {},
    curves: {},
  };
  ctx.results.servers[def.name] = run;
  try {
    run.preflight = await preflight(s, ctx.reviews);
    if (def.name !== 'limit') ctx.parityVerdicts[def.name] = await parity(s, parityCases());
    const reviews = def.reviews.filter((r) => ctx.only?.includes(r) ?? true);
    for (const review of reviews) run.curves[review] = await sweep(s, ctx.reviews, review, ctx.plan);
    if (ctx.only === undefined && ctx.plan.mixed.servers.includes(def.name))
      run.mixed = await mixed(s, ctx.reviews, ctx.plan);
    run.lifetimePeakRssMiB = Math.round((readRss(s.process.pid)?.hwmMiB ?? Number.NaN) * 10) / 10;
  } finally {
    await stop(s.process);
  }
}

/** gloo-guard and the limit taking turns: the ratio the targets against the limit are judged by. */
async function measurePaired(ctx: Ctx, defs: readonly ServerDef[]): Promise<void> {
  const limit = defs.find((d) => d.name === 'limit');
  const glooGuard = defs.find((d) => d.name === 'gloo-guard');
  if (limit === undefined || glooGuard === undefined) return;
  say('\n== gloo-guard and the limit taking turns');
  await quiet(ctx, 'the paired rounds');
  ctx.results.paired = await pairedRounds(ctx, limit, glooGuard, say);
}

/** The memory tests run on a fresh process, so the bombs' baseline is a server that only saw ordinary traffic. */
async function measureMemory(ctx: Ctx, def: ServerDef): Promise<void> {
  say(`\n== memory: ${def.label} (fresh process)`);
  await quiet(ctx, `memory of ${def.label}`);
  const s = await startServer(def, ctx.tls, ctx.logDir, ctx.reviews.namespace.body);
  const entry: NonNullable<Results['memory'][ServerName]> = {};
  ctx.results.memory[def.name] = entry;
  try {
    // The limit decodes without any cap: a bomb would only show that it has none.
    if (def.name === 'gloo-guard')
      entry.gzipBomb = await gzipBombs(s, ctx.reviews, ctx.plan, GZIP_BOMB_EXPANDS_TO);
    entry.inFlight = await inFlight(s, ctx.reviews, ctx.plan);
  } finally {
    await stop(s.process);
  }
}

function compareParity(ctx: Ctx): void {
  const cases = parityCases();
  const gg = ctx.parityVerdicts['gloo-guard'];
  const opa = ctx.parityVerdicts.opa;
  if (!gg || !opa) return;
  ctx.results.parity.cases = cases.length;
  cases.forEach((c, i) => {
    const a = gg[i];
    const b = opa[i];
    if (a && b && !sameVerdict(a, b))
      ctx.results.parity.mismatches.push({ case: c.name, glooGuard: a, opa: b });
  });
  say(`\nRego parity: ${cases.length} cases, ${ctx.results.parity.mismatches.length} differ`);
  for (const m of ctx.results.parity.mismatches) say(`  differs: ${m.case}: ${JSON.stringify(m)}`);
}

/** A new full run keeps the one before it as previous.json, which docs/performance.md sets side by side. */
function keepPrevious(): void {
  const latest = join(RESULTS_DIR, 'latest.json');
  if (existsSync(latest)) renameSync(latest, join(RESULTS_DIR, 'previous.json'));
}

function writeResults(results: Results, partial = false, newRun = true): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const base = partial ? 'only' : results.mode === 'full' ? 'latest' : 'quick';
  if (base === 'latest' && newRun) keepPrevious();
  writeFileSync(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const md = renderMarkdown(results).replace('(latest.svg)', `(${base}.svg)`);
  writeFileSync(join(RESULTS_DIR, `${base}.md`), md);
  writeFileSync(join(RESULTS_DIR, `${base}.svg`), renderChart(results));
  say(`\nwrote ${relative(ROOT, join(RESULTS_DIR, base))}.{json,md,svg}\n`);
  say(md.split('\n## Targets')[0] ?? '');
  for (const t of results.targets) {
    say(`  ${t.pass === null ? 'n/a ' : t.pass ? 'pass' : 'MISS'}  ${t.target}: ${t.measured}`);
  }
}

function mapValues<K extends string>(r: Record<K, number>, v: number): Record<K, number> {
  return Object.fromEntries(Object.keys(r).map((k) => [k, v])) as Record<K, number>;
}

/** The reviews `--only a,b` names, or undefined for all; an unknown name is a one-line error. */
function parseOnly(text: string | undefined): ReviewName[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !ALL_REVIEWS.some((r) => r === n));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(`--only takes reviews among ${ALL_REVIEWS.join(', ')}; not ${unknown.join(', ')}`);
  return ALL_REVIEWS.filter((r) => names.includes(r));
}

interface Args {
  plan: Plan;
  skipOpa: boolean;
  skipKyverno: boolean;
  check: boolean;
  reportOnly: boolean;
  only?: ReviewName[];
}

function parse(): Args {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      'point-sec': { type: 'string' },
      quick: { type: 'boolean', default: false },
      'skip-opa': { type: 'boolean', default: false },
      'skip-kyverno': { type: 'boolean', default: false },
      check: { type: 'boolean', default: false },
      'report-only': { type: 'boolean', default: false },
    },
  });
  const base = values.quick ? QUICK_PLAN : FULL_PLAN;
  const sec = values['point-sec'] === undefined ? undefined : Number(values['point-sec']);
  if (sec !== undefined && !(sec > 0)) throw new Error(`--point-sec must be a positive number of seconds`);
  return {
    // --point-sec lengthens every point (and the warm-up) of the plan: a longer look on a busy machine.
    plan:
      sec === undefined
        ? base
        : { ...base, warmupSec: Math.max(base.warmupSec, sec), pointSec: mapValues(base.pointSec, sec) },
    skipOpa: values['skip-opa'] === true,
    skipKyverno: values['skip-kyverno'] === true,
    check: values.check === true,
    reportOnly: values['report-only'] === true,
    only: parseOnly(values.only),
  };
}

/** Recomputes the summary, targets, table and chart of a recorded run (after a change to the report). */
function reportOnly(plan: Plan): number {
  const file = join(RESULTS_DIR, `${plan.mode === 'full' ? 'latest' : 'quick'}.json`);
  const r = JSON.parse(readFileSync(file, 'utf8')) as Results;
  r.summary = summarizeRuns(r.servers, r.plan.saturationConnections);
  r.targets = evaluateTargets(r);
  writeResults(r, false, false);
  return 0;
}

/** Why Kyverno is left out of this run, or undefined when it runs. */
function kyvernoSkipped(args: Args): string | undefined {
  if (args.skipKyverno) return '--skip-kyverno';
  if (args.only !== undefined) return '--only runs measure the HTTP servers only';
  const status = kyvernoStatus();
  return status.runnable ? undefined : status.line;
}

/** `--check`: what a run would do, and with what, without starting anything. */
function check(args: Args): number {
  const servers = ['limit', 'gloo-guard', ...(args.skipOpa ? [] : ['opa'])];
  say(`plan: ${args.plan.mode}; servers over HTTPS, one at a time on core 1: ${servers.join(', ')}`);
  say(`reviews: ${(args.only ?? ALL_REVIEWS).join(', ')}`);
  const skipped = kyvernoSkipped(args);
  if (skipped !== undefined) say(`Kyverno: not run (${skipped})`);
  else for (const line of kyvernoPlan(args.plan.mode === 'quick')) say(`Kyverno ${line}`);
  return 0;
}

/** Kyverno on the release reviews, after the HTTP servers have stopped; a run that cannot says why in one line. */
async function kyverno(args: Args, reviews: ReviewSet): Promise<KyvernoSummary> {
  const skipped = kyvernoSkipped(args);
  if (skipped !== undefined) return { ran: false, reason: skipped };
  say('\n== Kyverno (in process, beside gloo-guard)');
  try {
    const k = await runKyverno({ skipBomb: args.plan.mode === 'quick', log: say, reviews });
    const p50 = (engine: string, review: string): number =>
      k.speed.find((s) => s.engine === engine && s.review === review)?.p50Ms ?? Number.NaN;
    return {
      ran: true,
      version: k.kyvernoVersion,
      rows: Object.keys(k.sizes).map((review) => ({
        review,
        glooGuardP50Ms: p50('gloo-guard', review),
        kyvernoP50Ms: p50('kyverno', review),
      })),
      parityCases: k.parity.length,
      parityDiffer: k.parity.filter((p) => !p.same).length,
    };
  } catch (err: unknown) {
    return { ran: false, reason: `failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** True when a peer gave another verdict than gloo-guard on a parity case: the run fails. */
function verdictsDiffer(r: Results): boolean {
  return r.parity.mismatches.length > 0 || (r.kyverno?.ran === true && r.kyverno.parityDiffer > 0);
}

async function main(): Promise<number> {
  const started = Date.now();
  const args = parse();
  const { plan, skipOpa, reportOnly: onlyReport, only } = args;
  if (onlyReport) return reportOnly(plan);
  if (args.check) return check(args);
  installCleanup();
  if (cpus().length < 2) throw new Error('the benchmark needs 2 cores: one for the server, one for the load');
  if (!pinSelf()) say('warning: could not pin the driver to core 0 (taskset missing?)');
  say(`gloo-guard bench (${plan.mode}); servers on core 1, load on core 0`);
  const opaBuild = skipOpa ? undefined : await buildOpa();
  const gg = buildGlooGuard();
  const limit = buildLimitServer();
  const reviews = loadReviews();
  const work = mkdtempSync(join(tmpdir(), 'gloo-guard-bench-'));
  const opaVer = opaBuild ? opaVersion(opaBuild.path) : 'skipped';
  const ctx: Ctx = {
    plan,
    reviews,
    tls: writeTls(work),
    logDir: work,
    only,
    parityVerdicts: {},
    results: {
      schema: 1,
      mode: plan.mode,
      generatedAt: new Date().toISOString(),
      durationSec: 0,
      machine: machine(opaVer),
      method: {
        ...METHOD,
        glooGuardSource: `commit ${sourceCommit()}`,
        opaBuild: opaBuild
          ? `${opaBuild.cached ? 'cached' : `built in ${opaBuild.buildSeconds} s`}: ${relative(ROOT, opaBuild.path)}`
          : 'skipped',
      },
      plan,
      reviews: Object.fromEntries(
        Object.entries(reviews).map(([k, v]) => [
          k,
          { bodyBytes: v.body.length, secretBytes: v.secretBytes, releaseJsonBytes: v.releaseJsonBytes },
        ]),
      ),
      servers: {},
      parity: { cases: 0, mismatches: [] },
      memory: {},
      summary: [],
      targets: [],
      notes: [],
    },
  };
  try {
    const defs = [
      limitDef(limit.path),
      glooGuardDef(gg.path),
      ...(opaBuild ? [opaDef(opaBuild.path, join(ROOT, 'bench', 'opa', 'policy'))] : []),
    ];
    for (const def of defs) await measureServer(ctx, def);
    const memory = only === undefined ? defs.filter((d) => plan.memory.servers.includes(d.name)) : [];
    for (const def of memory) await measureMemory(ctx, def);
    await measurePaired(ctx, defs);
    compareParity(ctx);
  } catch (err: unknown) {
    say(`server logs kept in ${work}`);
    throw err;
  } finally {
    await stopAll();
    // The serving key never outlives the run; logs stay only when it failed.
    rmSync(ctx.tls.keyFile, { force: true });
  }
  const r = ctx.results;
  r.kyverno = await kyverno(args, reviews);
  if (!r.kyverno.ran) say(`Kyverno: not run (${r.kyverno.reason})`);
  r.summary = summarizeRuns(r.servers, plan.saturationConnections);
  r.targets = evaluateTargets(r);
  r.durationSec = Math.round((Date.now() - started) / 1000);
  const driverBound = r.summary.filter((x) => x.serverCoreBusy < 0.9 && x.driverCoreBusy > 0.95);
  if (driverBound.length > 0) {
    r.notes.push(
      `Driver-bound points (server core < 90% busy while the driver core was > 95% busy): ${driverBound.map((x) => `${x.server}/${x.review}`).join(', ')}; their throughput is a lower bound.`,
    );
  }
  const noisy = Object.values(r.servers).flatMap((s) =>
    Object.entries(s.curves).flatMap(([review, points]) =>
      (points ?? [])
        .filter((p) => p.otherCpu > OTHER_CPU_LIMIT)
        .map((p) => `${s.name}/${review}/c=${p.connections}`),
    ),
  );
  if (noisy.length > 0) {
    r.notes.push(
      `Other processes took more than ${OTHER_CPU_LIMIT} of a core during ${noisy.length} points even after retries (${noisy.slice(0, 8).join(', ')}${noisy.length > 8 ? ', …' : ''}): those points are pessimistic.`,
    );
  }
  writeResults(r, only !== undefined);
  rmSync(work, { recursive: true, force: true });
  say(
    `done in ${r.durationSec} s; ${runningCount()} processes left running; logs and binaries in ${relative(ROOT, BIN_DIR)}`,
  );
  return verdictsDiffer(r) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void stopAll().finally(() => {
      process.exitCode = 1;
    });
  },
);

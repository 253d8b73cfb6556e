/**
 * `npm run bench:e2e`: gloo-guard as the API server and Helm see it (issue 17 item 2). Starts the real
 * kube-apiserver + etcd of the e2e suite, the compiled webhook with the chart's own webhook
 * configuration, and reads the API server's `apiserver_admission_webhook_admission_duration_seconds`
 * per gloo-guard webhook while (a) Deployments and Namespaces are created and updated and (b) a small
 * and a ~1 MiB gloo-platform release are upgraded with real Helm 3 and 4, timing `helm upgrade` with
 * the webhook and without it. Writes bench/results/e2e.{json,md}.
 *
 *   npm run bench:e2e [-- --deployments 500 --namespaces 100 --upgrades 20 --timed 10]
 *   npm run bench:e2e -- --scale 20000 [--minutes 3]   # only the cluster view at scale, added to e2e.json
 *   npm run bench:e2e -- --only releases [--sizes large] [--upgrades 20 --timed 10]
 *                                  # only (b), printed and kept in .cache/bench-e2e-releases.json
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { KubeRest } from '../src/k8s/rest.js';
import type { HelmMajor } from '../scripts/helm-bin.js';
import {
  askWebhook,
  buildGlooGuard,
  CHARTS,
  type ClusterInfo,
  ensure,
  helm,
  kube,
  registerWebhook,
  releaseSecrets,
  serveRegistered,
  servingCert,
  startE2eCluster,
  tempFile,
  unregisterWebhook,
  waitFor,
  webhookMetrics,
} from '../test/e2e/support.js';
import {
  bracketedSlowdowns,
  pairedSummary,
  renderE2e,
  waitedPerUpgrade,
  type E2eResults,
} from './e2e-report.js';
import {
  eventLoopTicks,
  gcPauses,
  latencyOf,
  scrape,
  serverBuckets,
  subtract,
  subtractSums,
  webhookBuckets,
  webhookSeconds,
  type Buckets,
  type GcPauses,
  type WebhookLatency,
} from './apiserver-metrics.js';
import { buildLimitServer, ROOT, sourceCommit } from './build.js';
import { schedBetween, schedTimes } from './memory.js';
import { freePort } from './processes.js';
import { bytes, seeded } from './prng.js';
import { summarize } from './stats.js';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The production values the e2e suite installs gloo-platform with (they pass every policy). */
const PROD = readFileSync(join(ROOT, 'test/fixtures/values/platform-mgmt-production.yaml'), 'utf8');

/** Release sizes: padding added to the chart's values.yaml (random base64, so gzip cannot shrink it). */
const SIZES = { small: 6 * 1024, large: 850 * 1024 } as const;
type Size = keyof typeof SIZES;

/** A copy of the e2e gloo-platform chart whose values.yaml carries `padding` bytes more, as a chart with a long values file does. */
function paddedChart(padding: number, seed: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'gg-bench-chart-'));
  cpSync(join(CHARTS, 'gloo-platform'), dir, { recursive: true });
  const rng = seeded(seed);
  const lines: string[] = [];
  for (let n = 0; n * 64 < padding; n++) lines.push(bytes(rng, 48).toString('base64'));
  const extra = stringify({ benchAnnotations: Object.fromEntries(lines.map((l, i) => [`note-${i}`, l])) });
  writeFileSync(join(dir, 'values.yaml'), `${readFileSync(join(dir, 'values.yaml'), 'utf8')}\n${extra}`);
  return dir;
}

async function inParallel(jobs: Array<() => Promise<unknown>>, width: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]?.();
    }),
  );
}

/** Runs the jobs `width` at a time and returns each one's wall time in ms, as the client saw it. */
async function timedWrites(jobs: Array<() => Promise<unknown>>, width: number): Promise<number[]> {
  const ms: number[] = [];
  await inParallel(
    jobs.map((job) => async () => {
      const t0 = performance.now();
      await job();
      ms.push(performance.now() - t0);
    }),
    width,
  );
  return ms;
}

interface Ctx {
  info: ClusterInfo & { token: string };
  rest: KubeRest;
  vwc: Record<string, unknown>;
  vwcName: string;
  /** The webhook's own GET /metrics (the bare limit server has none). */
  serverMetrics?: () => Promise<string>;
  /** Whether the servers run in cpu cgroups of their own (ownCgroup), as pods do. */
  ownCgroup?: boolean;
  /** The server's process, for its CPU time and run-queue wait (schedTimes). */
  pid?: number;
}

/**
 * The latencies of the keys that were called between two scrapes, without `skip`'s, each with its
 * calls' time together when `seconds` (the `_sum` difference per key) has it.
 */
function called(
  diff: Map<string, Buckets>,
  skip?: RegExp,
  seconds?: Map<string, number>,
): Record<string, WebhookLatency> {
  const withTotal = (key: string, l: WebhookLatency): WebhookLatency => {
    const s = seconds?.get(key);
    return s === undefined ? l : { ...l, totalMs: Math.round(s * 1e5) / 100 };
  };
  return Object.fromEntries(
    [...diff]
      .filter(([key]) => !skip?.test(key))
      .map(([key, b]) => [key, withTotal(key, latencyOf(b))] as const)
      .filter(([, l]) => l.calls > 0),
  );
}

/** The webhook's own timing per kind, and its garbage collection, between a scrape taken before and now. */
async function serverSide(
  metrics: () => Promise<string>,
  before: string,
): Promise<{ server: Record<string, WebhookLatency>; gc: GcPauses }> {
  const after = await metrics();
  return {
    server: called(subtract(serverBuckets(after), serverBuckets(before))),
    gc: gcPauses(before, after),
  };
}

/** The e2e support's registration sentinels (test/e2e/support.ts) are not gloo-guard's webhooks. */
const SENTINEL = /\.sentinel\.e2e\./;

/** The API server's timing of each gloo-guard webhook between a scrape taken before and now. */
async function webhookLatencies(
  ctx: Ctx,
  before: string,
  byOperation = false,
): Promise<Record<string, WebhookLatency>> {
  const after = await scrape(ctx.info.server, ctx.info.caPem, ctx.info.token);
  return called(
    subtract(webhookBuckets(after, byOperation), webhookBuckets(before, byOperation)),
    SENTINEL,
    subtractSums(webhookSeconds(after, byOperation), webhookSeconds(before, byOperation)),
  );
}

const merge = { contentType: 'application/merge-patch+json' };

/**
 * (a) Deployments and Namespaces created and updated; the ones the chart's matchConditions send reach
 * the webhook. `prefix` names the new objects, so a second pass (the floor) writes objects of its own.
 */
async function objects(
  ctx: Ctx,
  deployments: number,
  namespaces: number,
  prefix = 'bench',
  width = 8,
): Promise<E2eResults['objects']> {
  const { rest } = ctx;
  const judged = ['gloo-mesh', 'gloo-mesh-addons'];
  // As production has them: the add-ons namespace in the mesh (addons-namespace-injection), gloo-mesh not.
  await ensure(rest, '/api/v1/namespaces', { metadata: { name: 'gloo-mesh' } });
  await ensure(rest, '/api/v1/namespaces', {
    metadata: { name: 'gloo-mesh-addons', labels: { 'istio-injection': 'enabled' } },
  });
  const load0 = load();
  const before = await scrape(ctx.info.server, ctx.info.caPem, ctx.info.token);
  const serverBefore = await ctx.serverMetrics?.();
  const steps: NonNullable<E2eResults['objects']['steps']> = {};
  // Each kind of write on its own: the server's CPU and its wait for a CPU, and (gloo-guard, between two
  // scrapes of its metrics) its event loop and GC, during that write alone.
  const step = async (write: string, jobs: Array<() => Promise<unknown>>): Promise<number[]> => {
    const first = await ctx.serverMetrics?.();
    const s0 = ctx.pid === undefined ? undefined : schedTimes(ctx.pid);
    const ms = await timedWrites(jobs, width);
    const s1 = ctx.pid === undefined ? undefined : schedTimes(ctx.pid);
    const last = first === undefined ? undefined : await ctx.serverMetrics?.();
    steps[write] = {
      ...(first !== undefined && last !== undefined
        ? { gc: gcPauses(first, last), loop: eventLoopTicks(last) }
        : {}),
      ...(s0 && s1 ? { sched: schedBetween(s0, s1) } : {}),
    };
    return ms;
  };
  const nsCreate = await step(
    'namespaceCreate',
    Array.from(
      { length: namespaces },
      (_, i) => () =>
        rest.call('POST', '/api/v1/namespaces', { body: { metadata: { name: `${prefix}-ns-${i}` } } }),
    ),
  );
  // Only gloo-mesh and gloo-mesh-addons are judged (the chart's matchConditions): their updates reach the webhook.
  const nsUpdate = await step(
    'namespaceUpdate',
    Array.from(
      { length: namespaces },
      (_, i) => () =>
        rest.call('PATCH', `/api/v1/namespaces/${judged[i % 2] ?? ''}`, {
          body: { metadata: { labels: { 'bench-rev': `${prefix}-${i}` } } },
          ...merge,
        }),
    ),
  );
  const dep = (i: number): Record<string, unknown> => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${prefix}-${i}`, namespace: judged[i % 2] },
    spec: {
      selector: { matchLabels: { app: `${prefix}-${i}` } },
      template: {
        metadata: { labels: { app: `${prefix}-${i}` } },
        spec: { containers: [{ name: 'app', image: `registry.example.com/bench:${i}` }] },
      },
    },
  });
  const depPath = (i: number): string => `/apis/apps/v1/namespaces/${judged[i % 2] ?? ''}/deployments`;
  const depCreate = await step(
    'deploymentCreate',
    Array.from({ length: deployments }, (_, i) => () => rest.call('POST', depPath(i), { body: dep(i) })),
  );
  const depUpdate = await step(
    'deploymentUpdate',
    Array.from(
      { length: deployments },
      (_, i) => () =>
        rest.call('PATCH', `${depPath(i)}/${prefix}-${i}`, {
          body: { metadata: { labels: { 'bench-rev': '1' } } },
          ...merge,
        }),
    ),
  );
  return {
    loadAverage: { start: load0, end: load() },
    writes: { deployments, namespaces, concurrency: width },
    ...(Object.values(steps).some((x) => Object.keys(x).length > 0) ? { steps } : {}),
    clientMs: {
      namespaceCreate: summarize(nsCreate),
      namespaceUpdate: summarize(nsUpdate),
      deploymentCreate: summarize(depCreate),
      deploymentUpdate: summarize(depUpdate),
    },
    apiServer: await webhookLatencies(ctx, before, true),
    ...(ctx.serverMetrics && serverBefore !== undefined
      ? await serverSide(ctx.serverMetrics, serverBefore)
      : {}),
  };
}

function upgrade(ctx: Ctx, major: HelmMajor, name: string, chart: string, values: string): number {
  const t0 = performance.now();
  const r = helm(major, ctx.info, [
    'upgrade',
    '--install',
    name,
    chart,
    '-n',
    name,
    '--create-namespace',
    '-f',
    values,
  ]);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`helm ${major} upgrade ${name} failed: ${r.stderr.trim().slice(0, 600)}`);
  return ms;
}

/** Size of the deployed revision's release (Helm prunes old revisions, so it is looked up by status). */
async function secretBytes(ctx: Ctx, ns: string, name: string): Promise<number> {
  const deployed = (await releaseSecrets(ctx.rest, ns, name)).find((s) => s.status === 'deployed');
  if (deployed === undefined) throw new Error(`release ${ns}/${name} has no deployed revision`);
  const r = await ctx.rest.call('GET', `/api/v1/namespaces/${ns}/secrets/${deployed.name}`);
  const data = (r.body as { data?: { release?: string } }).data?.release ?? '';
  return Buffer.from(data, 'base64').length;
}

type ReleaseRun = E2eResults['releases'][number];

/**
 * (b) One release upgraded with and without the webhook, interleaved: with, without, with, without,
 * ..., with, then the rest of the runs with it. Each run without it sits between two with it.
 */
async function release(
  ctx: Ctx,
  major: HelmMajor,
  size: Size,
  chart: string,
  upgrades: number,
  timed: number,
): Promise<ReleaseRun> {
  const name = `bench-${size}-${major}`;
  const values = tempFile('prod.yaml', PROD);
  upgrade(ctx, major, name, chart, values);
  const load0 = load();
  const before = await scrape(ctx.info.server, ctx.info.caPem, ctx.info.token);
  const serverBefore = await ctx.serverMetrics?.();
  const withMs: number[] = [upgrade(ctx, major, name, chart, values)];
  const withoutMs: number[] = [];
  for (let i = 0; i < timed; i++) {
    await unregisterWebhook(ctx.rest, ctx.vwcName);
    withoutMs.push(upgrade(ctx, major, name, chart, values));
    await registerWebhook(ctx.rest, ctx.vwc);
    withMs.push(upgrade(ctx, major, name, chart, values));
  }
  while (withMs.length < upgrades) withMs.push(upgrade(ctx, major, name, chart, values));
  const apiServer = await webhookLatencies(ctx, before, true);
  const withSummary = summarize(withMs);
  const withoutSummary = summarize(withoutMs);
  const run: ReleaseRun = {
    helm: major,
    size,
    secretBytes: await secretBytes(ctx, name, name),
    loadAverage: { start: load0, end: load() },
    withWebhookMs: withSummary,
    withoutWebhookMs: withoutSummary,
    slowdown: Math.round((withSummary.p50 / withoutSummary.p50 - 1) * 1000) / 1000,
    paired: pairedSummary(bracketedSlowdowns(withMs, withoutMs)),
    waitedMs: waitedPerUpgrade(apiServer, withMs.length),
    apiServer,
    ...(ctx.serverMetrics && serverBefore !== undefined
      ? await serverSide(ctx.serverMetrics, serverBefore)
      : {}),
  };
  say(
    `  helm ${major} ${size} (${(run.secretBytes / 1024).toFixed(1)} KiB): upgrade p50 ${withSummary.p50} ms with, ` +
      `${withoutSummary.p50} ms without (${(run.slowdown * 100).toFixed(1)}%; paired median ` +
      `${((run.paired?.median ?? Number.NaN) * 100).toFixed(1)}%); load ${run.loadAverage.end}`,
  );
  return run;
}

function args(): {
  deployments: number;
  namespaces: number;
  upgrades: number;
  timed: number;
  scale?: number;
  minutes: number;
  only?: 'releases';
  sizes: Size[];
} {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string' },
      minutes: { type: 'string', default: '3' },
      deployments: { type: 'string', default: '500' },
      namespaces: { type: 'string', default: '100' },
      upgrades: { type: 'string', default: '20' },
      timed: { type: 'string', default: '10' },
      only: { type: 'string' },
      sizes: { type: 'string', default: 'small,large' },
    },
  });
  if (values.only !== undefined && values.only !== 'releases')
    throw new Error(`--only takes "releases" (the Helm upgrades alone), not "${values.only}"`);
  const sizes = values.sizes.split(',').map((v) => v.trim());
  const unknown = sizes.filter((v) => !(v in SIZES));
  if (unknown.length > 0 || sizes.length === 0)
    throw new Error(`--sizes is a list of ${Object.keys(SIZES).join(', ')}, not "${values.sizes}"`);
  const n = (k: keyof typeof values): number => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`--${k} must be a positive integer, not "${values[k]}"`);
    return v;
  };
  if (n('timed') >= n('upgrades'))
    throw new Error(
      '--timed must be less than --upgrades: each run without the webhook sits between two with it',
    );
  return {
    deployments: n('deployments'),
    namespaces: n('namespaces'),
    upgrades: n('upgrades'),
    timed: n('timed'),
    ...(values.scale !== undefined ? { scale: scaleOf(values.scale) } : {}),
    minutes: n('minutes'),
    ...(values.only === 'releases' ? { only: 'releases' as const } : {}),
    sizes: sizes as Size[],
  };
}

/** The padded charts by size, made once per run; the caller removes them. */
type Charts = Map<Size, string>;

function chartOf(charts: Charts, size: Size): string {
  let chart = charts.get(size);
  if (chart === undefined) {
    chart = paddedChart(SIZES[size], size === 'small' ? 1 : 2);
    charts.set(size, chart);
  }
  return chart;
}

const MAJORS_IN_ORDER: HelmMajor[] = ['v3', 'v4'];

/** --scale N: a number of Deployments, 0 included (start-up and footprint with an empty cluster view). */
function scaleOf(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--scale must be a number of Deployments (0 or more), not "${v}"`);
  return n;
}

/** (b) for each size, Helm 3 then 4. */
async function releasePhase(ctx: Ctx, opts: ReturnType<typeof args>, charts: Charts): Promise<ReleaseRun[]> {
  say(`== (b) releases upgraded ${opts.upgrades} times with the webhook, ${opts.timed} without`);
  const releases: ReleaseRun[] = [];
  for (const size of opts.sizes)
    for (const major of MAJORS_IN_ORDER)
      releases.push(await release(ctx, major, size, chartOf(charts, size), opts.upgrades, opts.timed));
  return releases;
}

/** Where the bench makes cpu cgroups (v1) of its own, one per server process. */
const CGROUP_ROOT = '/sys/fs/cgroup/cpu';

/**
 * Moves a server process into a cpu cgroup of its own, as the kubelet runs a pod: its threads then
 * share one weight against the API server, etcd and Helm, and the offload worker's niceness weighs
 * only against its own event loop, as in a cluster. Returns the cgroup to remove afterwards, or
 * undefined where none can be made (not root, no cgroup v1 cpu controller): the run records which.
 */
function ownCgroup(name: string, pid: number | undefined): string | undefined {
  if (pid === undefined || !existsSync(CGROUP_ROOT)) return undefined;
  const dir = join(CGROUP_ROOT, `gloo-guard-bench-${name}-${process.pid}`);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    return dir;
  } catch {
    removeCgroup(dir);
    return undefined;
  }
}

/** Removes a cgroup once its process has exited (the kernel refuses while it has members). */
function removeCgroup(dir: string | undefined): void {
  if (dir === undefined) return;
  try {
    rmdirSync(dir);
  } catch {
    // Already gone, or never made.
  }
}

/** The bare limit server (bench/limit-server.ts) on loopback, serving with the e2e cluster's certificate. */
async function startLimit(
  info: ClusterInfo,
): Promise<{ url: string; stop: () => Promise<void>; pid: number | undefined }> {
  const { path } = buildLimitServer();
  const port = await freePort();
  const { certFile, keyFile } = servingCert(info);
  const child = spawn(
    process.execPath,
    [path, '--port', String(port), '--cert', certFile, '--key', keyFile],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `https://127.0.0.1:${port}/validate`;
  const cgroup = ownCgroup('floor', child.pid);
  const stop = (): Promise<void> =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      child.once('exit', () => res());
      child.kill('SIGTERM');
    }).then(() => removeCgroup(cgroup));
  const ping = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"ping"}}';
  try {
    await waitFor('the bare limit server to answer', () =>
      askWebhook({ url }, info.caPem, ping).then(
        (a) => a.allowed,
        () => undefined,
      ),
    );
  } catch (err: unknown) {
    await stop();
    throw err;
  }
  return { url, stop, pid: child.pid };
}

/** The webhook configuration with every webhook's URL moved to `base` (same paths, same CA bundle). */
function pointedAt(vwc: Record<string, unknown>, base: string): Record<string, unknown> {
  const copy = structuredClone(vwc);
  for (const w of copy.webhooks as Array<{ clientConfig: { url: string } }>)
    w.clientConfig.url = new URL(new URL(w.clientConfig.url).pathname, base).toString();
  return copy;
}

type FloorRun = NonNullable<E2eResults['floor']>;

/** The floor's pass over one release: `upgrades` upgrades with the bare limit server registered. */
async function floorRelease(
  ctx: Ctx,
  major: HelmMajor,
  size: Size,
  chart: string,
  upgrades: number,
): Promise<FloorRun['releases'][number]> {
  const name = `bench-${size}-${major}`;
  const values = tempFile('prod.yaml', PROD);
  const before = await scrape(ctx.info.server, ctx.info.caPem, ctx.info.token);
  const ms: number[] = [];
  for (let i = 0; i < upgrades; i++) ms.push(upgrade(ctx, major, name, chart, values));
  const apiServer = await webhookLatencies(ctx, before, true);
  const run = {
    helm: major,
    size,
    upgradeMs: summarize(ms),
    waitedMs: waitedPerUpgrade(apiServer, upgrades),
    apiServer,
  };
  say(`  helm ${major} ${size}: upgrade p50 ${run.upgradeMs.p50} ms; ${JSON.stringify(run.apiServer)}`);
  return run;
}

/**
 * Runs `mine` with gloo-guard registered, then `floor` with the bare limit server registered in its
 * place (the chart's configuration, only the URLs moved), and registers gloo-guard again: the two
 * sides of one comparison back to back, so a drift in the machine's load falls on both alike.
 */
async function sideBySide<A, B>(
  ctx: Ctx,
  floorCtx: Ctx,
  mine: () => Promise<A>,
  floor: () => Promise<B>,
): Promise<[A, B]> {
  const a = await mine();
  await registerWebhook(ctx.rest, floorCtx.vwc);
  try {
    return [a, await floor()];
  } finally {
    await registerWebhook(ctx.rest, ctx.vwc);
  }
}

type Measured = Pick<E2eResults, 'objects' | 'objectsOneAtATime' | 'releases' | 'floor'>;

/**
 * (a) 8 at a time, (a) one at a time and (b) per size and Helm major, each first with gloo-guard and
 * then with the floor (the bare limit server in its place: the least any Node webhook costs the API
 * server on this machine).
 */
async function phasesSideBySide(ctx: Ctx, opts: ReturnType<typeof args>, charts: Charts): Promise<Measured> {
  const limit = await startLimit(ctx.info);
  const floorCtx: Ctx = {
    ownCgroup: ctx.ownCgroup,
    info: ctx.info,
    rest: ctx.rest,
    vwc: pointedAt(ctx.vwc, limit.url),
    vwcName: ctx.vwcName,
    ...(limit.pid !== undefined ? { pid: limit.pid } : {}),
  };
  const pair = <A, B>(mine: () => Promise<A>, floor: () => Promise<B>): Promise<[A, B]> =>
    sideBySide(ctx, floorCtx, mine, floor);
  const { deployments: d, namespaces: n } = opts;
  try {
    say(
      `== (a) ${d} Deployments and ${n} Namespaces, created and updated 8 at a time: gloo-guard, then the floor`,
    );
    const [a, floorA] = await pair(
      () => objects(ctx, d, n),
      () => objects(floorCtx, d, n, 'floor'),
    );
    say(`${JSON.stringify(a.apiServer)}\nfloor: ${JSON.stringify(floorA.apiServer)}`);
    // The same writes one at a time: the API server unhurried, as most clusters run it most of the time.
    say('== (a) again, one write at a time: gloo-guard, then the floor');
    const [one, floorOne] = await pair(
      () => objects(ctx, d, n, 'serial', 1),
      () => objects(floorCtx, d, n, 'floor-serial', 1),
    );
    say(`${JSON.stringify(one.apiServer)}\nfloor: ${JSON.stringify(floorOne.apiServer)}`);
    say(
      `== (b) releases upgraded ${opts.upgrades} times with the webhook, ${opts.timed} without, then ${opts.upgrades} with the floor`,
    );
    const releases: ReleaseRun[] = [];
    const floorReleases: FloorRun['releases'] = [];
    for (const size of opts.sizes)
      for (const major of MAJORS_IN_ORDER) {
        const chart = chartOf(charts, size);
        const [r, f] = await pair(
          () => release(ctx, major, size, chart, opts.upgrades, opts.timed),
          () => floorRelease(floorCtx, major, size, chart, opts.upgrades),
        );
        releases.push(r);
        floorReleases.push(f);
      }
    return {
      objects: a,
      objectsOneAtATime: one,
      releases,
      floor: { objects: floorA, objectsOneAtATime: floorOne, releases: floorReleases },
    };
  } finally {
    await limit.stop();
  }
}

/** Runs `phases` against the e2e cluster with the compiled webhook registered, and stops both. */
async function withCluster<T>(phases: (ctx: Ctx, charts: Charts) => Promise<T>): Promise<T> {
  // The webhook runs compiled, as the image runs it (the e2e suite's own build).
  buildGlooGuard();
  const cluster = await startE2eCluster();
  const charts: Charts = new Map();
  try {
    const info = { ...cluster, kubeconfigPath: cluster.kubeconfigPath };
    const rest = kube(info);
    const webhook = await serveRegistered(rest, info, { config: { mode: 'enforce' } });
    const cgroup = ownCgroup('gloo-guard', webhook.process.pid);
    if (cgroup === undefined)
      say(
        'note: no cpu cgroup of its own for the webhook (needs root and cgroup v1): it shares the machine as a plain process',
      );
    const ctx: Ctx = {
      info,
      rest,
      vwc: webhook.vwc,
      vwcName: webhook.vwcName,
      serverMetrics: () => webhookMetrics(webhook, info.caPem),
      ownCgroup: cgroup !== undefined,
      ...(webhook.process.pid !== undefined ? { pid: webhook.process.pid } : {}),
    };
    try {
      return await phases(ctx, charts);
    } finally {
      // Stopped on failure too, so no server outlives the bench and its cgroup can go.
      await webhook.stop();
      removeCgroup(cgroup);
    }
  } finally {
    await cluster.stop();
    for (const c of charts.values()) rmSync(c, { recursive: true, force: true });
  }
}

async function measure(opts: ReturnType<typeof args>): Promise<E2eResults> {
  const started = new Date();
  // The commit built and measured, read before the run: HEAD may move while it runs.
  const commit = sourceCommit();
  return withCluster(async (ctx, charts) => {
    const measured = await phasesSideBySide(ctx, opts, charts);
    const results = {
      schema: 1,
      generatedAt: started.toISOString(),
      durationSec: Math.round((Date.now() - started.getTime()) / 1000),
      commit,
      loadAverageAtStart: measured.objects.loadAverage,
      method: {
        cluster: 'kube-apiserver v1.36.3 + etcd v3.6.8 on loopback (test/e2e/cluster), no controllers',
        webhook:
          "compiled gloo-guard serve (mode: enforce, log level info), the chart's ValidatingWebhookConfiguration pointed at it",
        latency:
          'apiserver_admission_webhook_admission_duration_seconds from GET /metrics, subtracted between scrapes; p50/p99 interpolated within the buckets (bounds 5, 25, 100, 500 ms ...): the true value lies anywhere in its bucket, so atOrUnder gives the shares the quantiles are read from',
        helm: 'helm upgrade --install, wall time of the process; interleaved: each run without the webhook between two with it (paired: the mean of those two over it, minus 1)',
        cgroups: ctx.ownCgroup
          ? 'gloo-guard and the floor each in a cpu cgroup of its own (v1, default shares, no quota), as the kubelet runs a pod; the API server, etcd, Helm and the bench share the rest'
          : 'no cgroups: every process shares the machine as a plain process (the worker at nice 10 yields to the API server, etcd and Helm as well)',
        floor:
          "after each of gloo-guard's phases, the bare limit server (bench/limit-server.ts: JSON.parse and allow; a release decoded the cheapest way) registered with the same configuration, only the URLs moved; the same writes (new objects) and upgrades",
      },
      ...measured,
    };
    return results;
  });
}

/**
 * The cluster view at scale (issue 15 item 9): test/e2e/scale/cache-20k.ts on a cluster of its own,
 * with `deployments` Deployments and churn for `minutes`; its figures are its last stdout line.
 */
function scale(deployments: number, minutes: number): Record<string, unknown> {
  say(`== scale: ${deployments} Deployments, churn for ${minutes} min (test/e2e/scale/cache-20k.ts)`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/e2e/scale/cache-20k.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SCALE_DEPLOYMENTS: String(deployments), SCALE_MINUTES: String(minutes) },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`the scale run failed (exit ${String(r.status)})`);
  return JSON.parse(last) as Record<string, unknown>;
}

const E2E_JSON = join(ROOT, 'bench', 'results', 'e2e.json');
/** The full run before the recorded one, for the report's "now and before" (a --scale run keeps it). */
const E2E_PREVIOUS_JSON = join(ROOT, 'bench', 'results', 'e2e-previous.json');

/**
 * One command per study: `--scale N` runs only the cluster view at scale (its own cluster, minutes to
 * fill) and adds it, with its commit and load, to the recorded run under N; a run without it measures (a) and
 * (b) and keeps the recorded scale figures.
 */
async function run(opts: ReturnType<typeof args>): Promise<E2eResults> {
  const recorded = existsSync(E2E_JSON)
    ? (JSON.parse(readFileSync(E2E_JSON, 'utf8')) as E2eResults)
    : undefined;
  if (opts.scale === undefined) {
    const results = await measure(opts);
    return recorded?.scale ? { ...results, scale: recorded.scale } : results;
  }
  if (!recorded)
    throw new Error('--scale adds to bench/results/e2e.json: run `npm run bench:e2e` once first');
  const stamp = {
    generatedAt: new Date().toISOString(),
    commit: sourceCommit(),
    loadAverageAtStart: loadavg(),
  };
  // Keyed by the number of Deployments, so runs at 1,000, 5,000 and 20,000 give the growth together.
  const figures = { ...stamp, ...scale(opts.scale, opts.minutes) };
  return { ...recorded, scale: { ...recorded.scale, [String(opts.scale)]: figures } };
}

/** `--only releases`: (b) alone, for working on the release path; bench/results keeps the full run's figures. */
async function releasesOnly(opts: ReturnType<typeof args>): Promise<void> {
  const started = new Date();
  const commit = sourceCommit();
  const releases = await withCluster((ctx, charts) => releasePhase(ctx, opts, charts));
  const out = { generatedAt: started.toISOString(), commit, releases };
  const file = join(ROOT, '.cache', 'bench-e2e-releases.json');
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const r of releases) say(`helm ${r.helm} ${r.size}: ${JSON.stringify(r.apiServer)}`);
  say('wrote .cache/bench-e2e-releases.json (bench/results is left as it was)');
}

async function main(): Promise<void> {
  const opts = args();
  if (opts.only === 'releases') return releasesOnly(opts);
  const results = await run(opts);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  if (opts.scale === undefined && existsSync(E2E_JSON)) renameSync(E2E_JSON, E2E_PREVIOUS_JSON);
  writeFileSync(E2E_JSON, `${JSON.stringify(results, null, 2)}\n`);
  const previous = existsSync(E2E_PREVIOUS_JSON)
    ? (JSON.parse(readFileSync(E2E_PREVIOUS_JSON, 'utf8')) as E2eResults)
    : undefined;
  const md = renderE2e(results, previous);
  writeFileSync(join(ROOT, 'bench', 'results', 'e2e.md'), md);
  say(md);
  say('wrote bench/results/e2e.{json,md}');
}

main().then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(`bench:e2e failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

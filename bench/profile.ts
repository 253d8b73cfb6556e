/**
 * Profiles gloo-guard under load: `npx tsx bench/profile.ts [--review deployment] [--sec 10]
 * [--connections 16] [--mixed] [--server gloo-guard|limit] [--config FILE]`. Starts the server with `node --cpu-prof` on core 1, drives it from
 * core 0, stops it so the profile is written, and prints where the time went (also written to
 * bench/results/profile-<review>.md). --mixed adds Deployment/Namespace probes during a large-release load.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildGlooGuard, buildLimitServer, ROOT } from './build.js';
import { probe } from './client.js';
import { profileMarkdown, summarizeProfile, type CpuProfile } from './cpuprofile.js';
import { runLoad } from './load.js';
import { installCleanup, pinSelf, stop, stopAll } from './processes.js';
import { loadReviews } from './review-cache.js';
import type { ReviewName } from './reviews.js';
import { glooGuardDef, limitDef, startServer, writeTls } from './servers.js';
import { summarize } from './stats.js';

/** The thread number in a profile's file name (CPU.<date>.<pid>.<thread>.<seq>.cpuprofile). */
function threadOf(file: string): number {
  return Number(file.split('.')[4] ?? 0);
}

const REVIEWS: ReviewName[] = ['deployment', 'namespace', 'release-small', 'release-large'];

/** Functions whose inclusive time tells the story of a review. */
const INCLUSIVE = [
  'jsonParser',
  'parse',
  'validate',
  'reviewRequest',
  'subjectFromObject',
  'decodeReleaseSecretData',
  'strictBase64',
  'gunzipBounded',
  'releaseFromHelm',
  'evaluate',
  'decide',
  'logDecision',
  'recordReview',
  'json',
  'send',
  'prepareBody',
  'readReleaseFields',
  'inflateWatched',
  'inspect',
  'goStruct',
  'detachDeep',
  'readBody',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      review: { type: 'string', default: 'deployment' },
      sec: { type: 'string', default: '10' },
      connections: { type: 'string', default: '16' },
      mixed: { type: 'boolean', default: false },
      server: { type: 'string', default: 'gloo-guard' },
      config: { type: 'string' },
    },
  });
  const review = values.review as ReviewName;
  if (!REVIEWS.includes(review)) throw new Error(`--review must be one of ${REVIEWS.join(', ')}`);
  installCleanup();
  pinSelf();
  if (values.server !== 'gloo-guard' && values.server !== 'limit')
    throw new Error('--server is gloo-guard or limit');
  const reviews = loadReviews();
  const work = mkdtempSync(join(tmpdir(), 'gloo-guard-prof-'));
  const profDir = join(work, 'prof');
  mkdirSync(profDir);
  const profArgs = ['--cpu-prof', '--cpu-prof-dir', profDir];
  const def =
    values.server === 'limit'
      ? limitDef(buildLimitServer().path, profArgs)
      : glooGuardDef(buildGlooGuard().path, profArgs, values.config);
  const s = await startServer(def, writeTls(work), work, reviews.namespace.body);
  const sec = Number(values.sec);
  try {
    const body = reviews[review].body;
    await runLoad({ url: s.target.url, body, connections: 8, durationSec: 2 });
    const load = runLoad({
      url: s.target.url,
      body,
      connections: Number(values.connections),
      durationSec: sec,
      serverPid: s.process.pid,
    });
    if (values.mixed) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const p = await probe(s.target, [reviews.deployment.body, reviews.namespace.body], {
        ratePerSec: 100,
        durationMs: (sec - 1.5) * 1000,
      });
      process.stdout.write(`probe: ${JSON.stringify(summarize(p.samples))}\n`);
    }
    const r = await load;
    process.stdout.write(
      `load: ${r.rps} rps, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, server core ${r.serverCoreBusy}\n`,
    );
  } finally {
    await stop(s.process, 30_000);
  }
  // Node writes one profile per thread (CPU.<date>.<pid>.<thread>.<seq>): the main thread is 0,
  // the offload worker that decodes large releases another; both are summarized.
  const files = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => threadOf(a) - threadOf(b));
  if (files.length === 0) throw new Error(`no profile written in ${profDir} (did the server exit cleanly?)`);
  const title = `${values.server}, ${review}${values.mixed ? ' + probes' : ''}, ${values.connections} connections, ${sec} s`;
  const tag = `${values.server === 'limit' ? 'limit-' : ''}${review}${values.mixed ? '-mixed' : ''}`;
  const keep = join(ROOT, '.cache', 'bench-prof');
  mkdirSync(keep, { recursive: true });
  const sections = files.map((file) => {
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
    const thread = threadOf(file) === 0 ? 'main thread' : `worker thread ${threadOf(file)}`;
    const name = threadOf(file) === 0 ? tag : `${tag}-thread${threadOf(file)}`;
    writeFileSync(join(keep, `${name}.cpuprofile`), JSON.stringify(profile));
    return profileMarkdown(`${title}: ${thread}`, summarizeProfile(profile, INCLUSIVE));
  });
  const md = sections.join('\n');
  const out = join(ROOT, 'bench', 'results', `profile-${tag}.md`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(out, md);
  process.stdout.write(
    `${md}\nwrote ${relative(ROOT, out)}; raw profile in .cache/bench-prof (open in Chrome DevTools)\n`,
  );
  rmSync(work, { recursive: true, force: true });
}

main().then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(
      `profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void stopAll().finally(() => {
      process.exitCode = 1;
    });
  },
);

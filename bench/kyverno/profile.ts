/**
 * Where gloo-guard's time goes on a small release, in the same in-process path the Kyverno comparison
 * times: the runner under `node --cpu-prof`, one job of many runs, then the profile in µs per review.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildGlooGuard, ROOT } from '../build.js';
import { summarizeProfile, type CpuProfile, type Spent } from '../cpuprofile.js';
import { SERVER_CORE } from '../processes.js';

/** Functions of the review path whose inclusive time is reported. */
const INCLUSIVE = [
  'judge',
  'parse',
  'parseAdmissionReview',
  'reviewRequest',
  'prepareReview',
  'readSubjects',
  'decodeReleaseSecretData',
  'strictBase64',
  'gunzipBounded',
  'readReleaseFields',
  'releaseFromHelm',
  'finishReview',
  'evaluate',
  'decide',
];

/** A function's time per review. */
export interface PerReview {
  name: string;
  usPerReview: number;
  share: number;
}

/** The profile of `runs` judgements of one review, per review. */
export interface ReviewProfile {
  runs: number;
  inclusive: PerReview[];
  selfTop: PerReview[];
}

function perReview(rows: Spent[], runs: number): PerReview[] {
  return rows.map((r) => ({ name: r.name, usPerReview: Math.round((r.ms * 1000) / runs), share: r.share }));
}

/** Profiles gloo-guard's runner on `body` for `runs` runs (pinned to the server core where taskset exists). */
export async function profileGlooGuard(body: Buffer, runs: number): Promise<ReviewProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'gloo-guard-kyverno-prof-'));
  try {
    const file = join(dir, 'review.json');
    writeFileSync(file, body);
    const args = [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--import',
      'tsx',
      join(ROOT, 'bench/kyverno/gloo-guard-runner.ts'),
    ];
    const child = spawn('taskset', ['-c', String(SERVER_CORE), process.execPath, ...args], {
      cwd: ROOT,
      env: { ...process.env, GG_DIST: dirname(dirname(buildGlooGuard().path)) },
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    child.stdin.end(`profile ${file} ${String(runs)}\n`);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`profiled runner exited ${String(code)}`)),
      );
      child.once('error', reject);
    });
    const prof = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (prof === undefined) throw new Error('node --cpu-prof wrote no profile');
    const summary = summarizeProfile(
      JSON.parse(readFileSync(join(dir, prof), 'utf8')) as CpuProfile,
      INCLUSIVE,
      20,
    );
    return {
      runs,
      inclusive: perReview(summary.inclusive, runs),
      selfTop: perReview(summary.byFunction, runs),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

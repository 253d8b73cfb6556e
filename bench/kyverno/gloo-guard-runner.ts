/**
 * gloo-guard's side of the Kyverno comparison, speaking the harness's protocol (bench/kyverno/gg-bench):
 * one job a line on stdin, "<name> <review.json> <runs>"; one JSON line out per job with the verdict,
 * the time of each run (parse the body, read the AdmissionReview, judge it: what the webhook does with
 * a request body, without HTTP) and the peak RSS of the process.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

/**
 * The compiled build the server runs (GG_DIST, from `npm run bench`'s tsc build), or the sources
 * through tsx: tsx wraps every function it transforms (keepNames), which costs the hot path time
 * the shipped JavaScript does not spend.
 */
const dist = process.env.GG_DIST;
const load = async <T>(module: string): Promise<T> =>
  (await import(
    dist === undefined ? `../../src/${module}.js` : pathToFileURL(join(dist, `${module}.js`)).href
  )) as T;
const { defaultConfig } = await load<typeof import('../../src/config/types.js')>('config/types');
const { parseAdmissionReview } =
  await load<typeof import('../../src/server/admission.js')>('server/admission');
const { reviewRequest } = await load<typeof import('../../src/server/review.js')>('server/review');

/** What one job reports (the same shape the Go harness prints). */
export interface JobResult {
  name: string;
  verdict: { allowed: boolean; messages: string[]; errors: string[] };
  timesMs: number[];
  maxRssKiB: number;
  error?: string;
}

const config = defaultConfig();

function judge(body: Buffer): JobResult['verdict'] {
  const decision = reviewRequest(parseAdmissionReview(JSON.parse(body.toString('utf8'))), config);
  return {
    allowed: decision.allowed,
    messages: decision.message === undefined ? [] : [decision.message],
    errors: decision.policyErrors,
  };
}

/** VmHWM: resourceUsage().maxRSS would count the forking driver's memory too (Linux keeps it across exec). */
function peakRssKiB(): number {
  const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

function runJob(line: string): JobResult {
  const [name = line, path = '', runsText = ''] = line.trim().split(/\s+/);
  const out: JobResult = {
    name,
    verdict: { allowed: true, messages: [], errors: [] },
    timesMs: [],
    maxRssKiB: 0,
  };
  const runs = Number(runsText);
  try {
    const body = readFileSync(path);
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      out.verdict = judge(body);
      out.timesMs.push(performance.now() - start);
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message.slice(0, 300) : String(err);
  }
  out.maxRssKiB = peakRssKiB();
  return out;
}

process.stdout.write('{"ready":true}\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() !== '') process.stdout.write(`${JSON.stringify(runJob(line))}\n`);
});

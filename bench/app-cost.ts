/**
 * `npx tsx bench/app-cost.ts [--base DIST] [--rounds 30] [--per-round 300]`: the CPU µs per small
 * review of the webhook's request handler (createApp) in this process, with the sockets, TLS and HTTP
 * parsing left out: they cost the same as in the bare limit server. Each review is a fresh request
 * object and response, so nothing is judged twice from a cache. Two builds (the current source from
 * .cache/bench-dist, and with --base another tsc build of src/, say main's, copied aside) take turns
 * in rounds, so a busy machine slows both alike; the figure is the median over rounds. Each build is
 * measured with the default config and with every policy off (the server's own cost: reading,
 * answering, metrics, the log, and an engine with nothing to run).
 */
import { PassThrough } from 'node:stream';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { buildGlooGuard } from './build.js';
import { loadReviews } from './review-cache.js';
import { median } from './stats.js';

interface Build {
  label: string;
  createApp: (deps: { config: () => unknown }) => RequestListener;
  config: unknown;
  allOff: unknown;
}

async function loadBuild(label: string, dist: string): Promise<Build> {
  const app = (await import(join(dist, 'server', 'app.js'))) as { createApp: Build['createApp'] };
  const types = (await import(join(dist, 'config', 'types.js'))) as { defaultConfig: () => unknown };
  const policies = (await import(join(dist, 'policies', 'index.js'))) as { POLICIES: { id: string }[] };
  const config = types.defaultConfig() as Record<string, unknown>;
  const off = Object.fromEntries(policies.POLICIES.map((p) => [p.id, { action: 'off' }]));
  return { label, createApp: app.createApp, config, allOff: { ...config, policies: off } };
}

/** One request through the handler: a body stream with the API server's headers, and a response that records the answer. */
function send(handler: RequestListener, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = new PassThrough() as unknown as IncomingMessage & PassThrough;
    Object.assign(req, {
      method: 'POST',
      url: '/validate?timeout=10s',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      socket: { remoteAddress: '127.0.0.1' },
      complete: false,
    });
    req.on('end', () => {
      req.complete = true;
    });
    let code = 0;
    const fake = {
      headersSent: false,
      writeHead(c: number): unknown {
        code = c;
        fake.headersSent = true;
        return fake;
      },
      end(text: string): void {
        if (code !== 200) reject(new Error(`answer ${code}: ${text}`));
        else resolve(text.length);
      },
    };
    handler(req, fake as unknown as ServerResponse);
    req.end(body);
  });
}

async function round(handler: RequestListener, body: Buffer, n: number): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await send(handler, body);
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      rounds: { type: 'string', default: '30' },
      'per-round': { type: 'string', default: '300' },
    },
  });
  const current = join(buildGlooGuard().path, '..', '..');
  const builds = [await loadBuild('current', current)];
  if (values.base !== undefined) builds.push(await loadBuild('base', values.base));
  const reviews = loadReviews();
  const cases: { key: string; handler: RequestListener; body: Buffer }[] = [];
  for (const b of builds) {
    for (const review of ['deployment', 'namespace'] as const) {
      for (const [mode, config] of [
        ['default config', b.config],
        ['every policy off', b.allOff],
      ] as const) {
        const handler = b.createApp({ config: () => config });
        cases.push({ key: `${review}, ${mode}, ${b.label}`, handler, body: reviews[review].body });
      }
    }
  }
  const samples = new Map<string, number[]>();
  process.stdout.write(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const rounds = Number(values.rounds);
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 === 0 ? cases : [...cases].reverse()) {
      const us = await round(c.handler, c.body, Number(values['per-round']));
      // The first rounds warm the JIT up; they are not counted.
      if (r >= Math.min(3, rounds - 1)) samples.set(c.key, [...(samples.get(c.key) ?? []), us]);
    }
  }
  process.stdout.write(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (const c of cases) {
    const mine = samples.get(c.key) ?? [];
    // Paired by round against the base build: the difference moves less with the machine's load than either figure.
    const base = c.key.endsWith(', current') ? samples.get(c.key.replace(/current$/, 'base')) : undefined;
    const paired = base
      ? `; current − base, median of rounds: ${median(mine.map((x, i) => x - (base[i] ?? Number.NaN))).toFixed(1)} µs`
      : '';
    process.stdout.write(`${c.key}: ${median(mine).toFixed(1)} µs per review${paired}\n`);
  }
}

main().then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(
      `app-cost failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);

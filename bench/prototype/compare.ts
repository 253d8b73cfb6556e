/**
 * `npx tsx bench/prototype/compare.ts [--sec 5]`: gloo-guard as it is against the prototypes of the
 * proposed serving changes (fast-server.ts), same machine split as the benchmark, and the limit for
 * scale. Writes bench/results/prototypes.md (bench code only; gloo-guard does not use it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildGlooGuard, buildLimitServer, ROOT } from '../build.js';
import { waitForQuiet } from '../memory.js';
import { installCleanup, pinSelf, stop, stopAll } from '../processes.js';
import { loadReviews } from '../review-cache.js';
import { inFlight, mixed } from '../scenarios.js';
import { runLoad } from '../load.js';
import { glooGuardDef, limitDef, startServer, writeTls, type ServerDef } from '../servers.js';
import { FULL_PLAN } from '../plan.js';

function prototypeDef(variant: string): ServerDef {
  return {
    name: 'gloo-guard',
    label: `prototype ${variant}`,
    color: '#2ca02c',
    reviews: ['deployment', 'namespace', 'release-small', 'release-large'],
    path: '/validate',
    command: (port, tls) => ({
      command: process.execPath,
      args: [
        '--import',
        'tsx',
        join(ROOT, 'bench', 'prototype', 'fast-server.ts'),
        '--variant',
        variant,
        '--port',
        String(port),
        '--cert',
        tls.certFile,
        '--key',
        tls.keyFile,
      ],
    }),
    display: `fast-server.ts --variant ${variant}`,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sec: { type: 'string', default: '5' },
      variants: { type: 'string', default: 'express-async-log,raw,raw-worker,offload,offload-fast-decode' },
      'skip-baselines': { type: 'boolean', default: false },
    },
  });
  const variants = (values.variants ?? '').split(',').filter((v) => v !== '');
  const sec = Number(values.sec);
  installCleanup();
  pinSelf();
  const reviews = loadReviews();
  const work = mkdtempSync(join(tmpdir(), 'gloo-guard-proto-'));
  const tls = writeTls(work);
  const defs = [
    ...(values['skip-baselines']
      ? []
      : [limitDef(buildLimitServer().path), glooGuardDef(buildGlooGuard().path)]),
    ...variants.map(prototypeDef),
  ];
  const rows: string[] = [];
  try {
    for (const def of defs) {
      await waitForQuiet(300, 0.1, (l) => process.stdout.write(`${l}\n`));
      const s = await startServer(def, tls, work, reviews.namespace.body);
      try {
        const cells: string[] = [];
        for (const review of ['deployment', 'namespace', 'release-large'] as const) {
          const body = reviews[review].body;
          await runLoad({ url: s.target.url, body, connections: 8, durationSec: 2 });
          const r = await runLoad({
            url: s.target.url,
            body,
            connections: 16,
            durationSec: sec,
            serverPid: s.process.pid,
          });
          cells.push(`${r.rps} (p99 ${r.latency.p99})`);
          process.stdout.write(
            `${def.label} ${review}: ${r.rps} rps p99 ${r.latency.p99} ms core ${r.serverCoreBusy}\n`,
          );
        }
        const m = await mixed(s, reviews, {
          ...FULL_PLAN,
          mixed: { ...FULL_PLAN.mixed, sec: Math.max(6, sec + 2) },
        });
        cells.push(`${m.underLoad.p50} / ${m.underLoad.p99}`);
        const f = await inFlight(s, reviews, { ...FULL_PLAN, memory: { ...FULL_PLAN.memory, sec: 6 } });
        cells.push(`${f.peakRssMiB} (${f.answered} answered)`);
        rows.push(`| ${def.label} | ${cells.join(' | ')} |`);
      } finally {
        await stop(s.process);
      }
    }
  } finally {
    await stopAll();
    rmSync(work, { recursive: true, force: true });
  }
  const md = [
    '# Prototypes of the proposed serving changes',
    '',
    `Written by \`npx tsx bench/prototype/compare.ts --sec ${sec}\`: each server alone on core 1, 16 connections, ${sec} s after a warm-up.`,
    '',
    '| server | Deployment RPS (p99 ms) | Namespace RPS (p99 ms) | large release RPS (p99 ms) | small p50 / p99 ms under large releases | peak RSS MiB, 50 large in flight |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows,
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench', 'results', 'prototypes.md'), md);
  process.stdout.write(`${md}\n`);
}

main().then(
  () => undefined,
  (err: unknown) => {
    process.stderr.write(
      `compare failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void stopAll().finally(() => {
      process.exitCode = 1;
    });
  },
);

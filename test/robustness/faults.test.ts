/**
 * Faults while the real `gloo-guard serve` process is under load: its certificate files replaced (the
 * kubelet's atomic swap, and half-written pairs), SIGTERM, and its config file replaced by invalid
 * ones. No request may fail, no review sent before SIGTERM may go unanswered, and an invalid config
 * must leave the previous one serving, with the error logged and counted in /metrics.
 *
 * Not here: the API server unreachable or slow for cluster lookups. That needs the cluster view that
 * is being wired into serve now (--cluster-view); it belongs with test/e2e once it lands.
 *
 * Extends test/integration/serve-process.test.ts, which does each of these once, without load.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateCa, generateServing, type KeyPair } from '../../src/certs/generate.js';
import { certificateFingerprint } from '../../src/server/tls.js';
import {
  deploymentObject,
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import {
  figure,
  logLine,
  runLoad,
  send,
  startServe,
  stopAllProcesses,
  stopServe,
  template,
  until,
  type LoadRequest,
  type Outcome,
  type Target,
} from './support.js';

const dirs: string[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.destroy();
  await stopAllProcesses();
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function keepAlive(max: number): Agent {
  const a = new Agent({ keepAlive: true, maxSockets: max });
  agents.push(a);
  return a;
}

/** A mixed stream of reviews; `audit` says whether the server runs in audit mode (everything allowed). */
function mixed(prefix: string, audit = false): (i: number) => LoadRequest {
  const t = [
    template('release, defaults', releaseReview(), audit),
    template('release, production', releaseReview({ values: PRODUCTION_VALUES }), true),
    template(
      'Namespace with injection',
      objectReview(namespaceObject('gloo-mesh', { 'istio-injection': 'enabled' })),
      audit,
    ),
    template('Deployment', objectReview(deploymentObject('web', 'team-a')), true),
  ];
  return (i) => t[i % t.length]!(`${prefix}-${i}-${randomUUID()}`);
}

/** Every request answered, 200, with its own uid and the decision expected. */
function expectNoFailure(outcomes: Outcome[]): void {
  const failed = outcomes.filter(
    (o) =>
      o.error !== undefined || o.status !== 200 || o.responseUid !== o.uid || o.allowed !== o.expectAllowed,
  );
  expect(failed.slice(0, 5)).toEqual([]);
}

/**
 * Counts the answers of a load run, so that a fault is injected once the load has moved on by a
 * number of answers (an event), not after a stretch of time.
 */
function progress(): { onOutcome: () => void; movedOn: (answers: number) => Promise<true> } {
  let answered = 0;
  return {
    onOutcome: () => void answered++,
    movedOn: (answers) => {
      const mark = answered + answers;
      return until(`${answers} more answers`, () => (answered >= mark ? true : undefined));
    },
  };
}

function peerFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.on('error', reject);
  });
}

/** Lays out files the way the kubelet updates a Secret volume: a new directory, then an atomic `..data` swap. */
function kubeletMount(dir: string, files: Record<string, string>, generation: number): void {
  const target = `..gen_${generation}`;
  mkdirSync(join(dir, target));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, target, name), text);
  symlinkSync(target, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch {
      // linked by an earlier generation
    }
  }
}

describe('faults under load', { timeout: 600_000 }, () => {
  it('when the certificate files are replaced again and again mid-load, then no request fails and the last good certificate is served', async () => {
    const dir = tempDir('gloo-guard-rotate-');
    const ca = generateCa('robustness-ca', 2);
    const serving = (): KeyPair =>
      generateServing(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 });
    const certs = Array.from({ length: 4 }, serving);
    kubeletMount(dir, { 'tls.crt': certs[0]!.certPem, 'tls.key': certs[0]!.keyPem }, 0);
    const s = await startServe(
      ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')],
      ca.certPem,
    );

    let rotating = true;
    let [good, broken] = [0, 0];
    const ignoredLines = (): number =>
      s.logs.filter((l) => String(l.msg).startsWith('certificate change ignored')).length;
    const load = progress();
    const rotations = (async () => {
      for (let gen = 1; gen <= 6; gen++) {
        await load.movedOn(50);
        const next = certs[1 + Math.floor((gen - 1) / 2)]!;
        // Odd generations are half-written (new certificate, old key): refused, the old pair kept.
        const halfWritten = gen % 2 === 1;
        const key = halfWritten ? certs[Math.floor((gen - 1) / 2)]!.keyPem : next.keyPem;
        const ignoredBefore = ignoredLines();
        kubeletMount(dir, { 'tls.crt': next.certPem, 'tls.key': key }, gen);
        if (halfWritten) {
          broken++;
          await until('the half-written pair refused', () =>
            ignoredLines() > ignoredBefore ? true : undefined,
          );
        } else {
          good++;
          const fp = certificateFingerprint(next.certPem);
          await until('the new certificate served', async () =>
            (await peerFingerprint(s.port, ca.certPem)) === fp ? true : undefined,
          );
        }
      }
      rotating = false;
    })();
    // Load until every swap has taken effect. Most requests reuse kept-alive connections; some open a
    // new one each time, so handshakes happen while the certificate is being swapped.
    const [reused, fresh] = await Promise.all([
      runLoad({
        target: { port: s.port, ca: ca.certPem, agent: keepAlive(32) },
        count: 1_000_000,
        concurrency: 32,
        make: mixed('reused'),
        stop: () => !rotating,
        onOutcome: load.onOutcome,
      }),
      runLoad({
        target: { port: s.port, ca: ca.certPem },
        count: 1_000_000,
        concurrency: 4,
        make: mixed('fresh'),
        stop: () => !rotating,
        onOutcome: load.onOutcome,
      }),
    ]);
    await rotations;
    const count = reused.outcomes.length + fresh.outcomes.length;
    expectNoFailure([...reused.outcomes, ...fresh.outcomes]);
    const last = certificateFingerprint(certs[good]!.certPem);
    await until('the last good certificate', async () =>
      (await peerFingerprint(s.port, ca.certPem)) === last ? true : undefined,
    );
    const reloads = s.logs.filter((l) => l.msg === 'serving certificate reloaded').length;
    const ignored = s.logs.filter((l) => String(l.msg).startsWith('certificate change ignored')).length;
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(ignored).toBeGreaterThanOrEqual(1);
    figure('fault: certificate rotation', {
      requests: count,
      newConnections: fresh.outcomes.length,
      failed: 0,
      swaps: good + broken,
      goodPairs: good,
      halfWritten: broken,
      reloadsLogged: reloads,
      ignoredLogged: ignored,
      seconds: Math.round(reused.ms / 100) / 10,
    });
    expect(await stopServe(s)).toBe(0);
  });

  it('when SIGTERM arrives mid-load, then every review sent before it is answered and the process exits 0', async () => {
    const s = await startServe();
    const agent = keepAlive(64);
    let signalAt = Infinity;
    let gone = false;
    const exited = s.exited.then((code) => {
      gone = true;
      return { code, at: performance.now() };
    });
    // The load goes on until the process has exited, so requests also arrive while it drains.
    const run = runLoad({
      target: { port: s.port, ca: s.ca, agent },
      count: 100_000,
      concurrency: 64,
      make: mixed('term'),
      stop: () => gone,
      onOutcome: (_o, done) => {
        if (done === 2000) {
          signalAt = performance.now();
          s.child.kill('SIGTERM');
        }
      },
    });
    const { outcomes } = await run;
    const { code, at } = await exited;
    const before = outcomes.filter((o) => o.sentAt !== undefined && o.sentAt < signalAt);
    const inFlight = before.filter((o) => (o.endedAt ?? 0) > signalAt);
    const failedEarly = outcomes.filter((o) => o.error !== undefined && (o.endedAt ?? 0) < signalAt);
    const after = outcomes.filter((o) => !before.includes(o));
    expect(failedEarly).toEqual([]);
    expectNoFailure(before);
    expect(code).toBe(0);
    expect(logLine(s, 'stopped')).toBeDefined();
    figure('fault: SIGTERM', {
      sentBeforeSignal: before.length,
      inFlightAtSignal: inFlight.length,
      lostBeforeSignal: 0,
      afterSignalAnswered: after.filter((o) => o.status === 200).length,
      afterSignalRefused: after.filter((o) => o.error !== undefined).length,
      refusedWith: [...new Set(after.flatMap((o) => (o.error ? [o.error] : [])))],
      exitMsAfterSignal: Math.round(at - signalAt),
    });
  });

  it('when the config file is replaced by invalid ones mid-load, then the old config keeps serving and each error is logged and counted', async () => {
    const dir = tempDir('gloo-guard-config-');
    const file = join(dir, 'config.yaml');
    // Atomic replacement, as a ConfigMap volume does it: readers see the old file or the new one.
    const replace = (text: string | Buffer): void => {
      writeFileSync(join(dir, '.next'), text);
      renameSync(join(dir, '.next'), file);
    };
    replace('mode: audit\n');
    const s = await startServe(['--config', file]);
    const target: Target = { port: s.port, ca: s.ca, agent: keepAlive(32) };
    const invalid: Array<[string, string | Buffer]> = [
      ['a bad value', 'mode: enforce\nonError: maybe\n'],
      ['broken YAML', 'mode: [\n'],
      ['nested 100 000 deep', `mode: enforce\npolicies: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`],
      [
        'nested 3 000 deep again (the yaml parser recursed; V8 could abort on a repeat)',
        `exceptions: ${'{a: '.repeat(3000)}1${'}'.repeat(3000)}\n`,
      ],
      ['binary', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 31) % 256))],
      ['an unknown policy', 'mode: enforce\npolicies:\n  no-such-policy: {action: deny}\n'],
    ];
    const failuresCounted = async (): Promise<number> =>
      Number(
        /gloo_guard_config_reloads_total\{result="failure"\} (\d+)/.exec(
          (await send(target, 'GET', '/metrics')).text,
        )?.[1] ?? 0,
      );
    let writing = true;
    const load = progress();
    const writes = (async () => {
      for (const [i, [, text]] of invalid.entries()) {
        await load.movedOn(50);
        replace(text);
        await until(`invalid config ${i + 1} counted`, async () =>
          (await failuresCounted()) > i ? true : undefined,
        );
      }
      writing = false;
    })();
    const run = await runLoad({
      target,
      count: 1_000_000,
      concurrency: 32,
      make: mixed('config', true),
      stop: () => !writing,
      onOutcome: load.onOutcome,
    });
    await writes;
    const count = run.outcomes.length;
    // In audit mode everything is allowed: a single denial would mean an invalid config took effect.
    expectNoFailure(run.outcomes);
    const failures = await failuresCounted();
    expect(failures).toBeGreaterThanOrEqual(invalid.length);
    expect((await send(target, 'GET', '/metrics')).text).not.toMatch(
      /gloo_guard_config_reloads_total\{result="success"\} [1-9]/,
    );
    const ignored = s.logs.filter((l) => String(l.msg).startsWith('config change ignored'));
    expect(ignored.length).toBeGreaterThanOrEqual(invalid.length);
    expect(ignored.every((l) => Array.isArray(l.problems) && (l.problems as unknown[]).length > 0)).toBe(
      true,
    );
    expect((await send(target, 'GET', '/readyz')).status).toBe(200);

    // A valid config still applies afterwards.
    replace('mode: enforce\n');
    await until('the reload', () => logLine(s, 'config reloaded'));
    const denied = await send(target, 'POST', '/validate', JSON.stringify(releaseReview()));
    expect((JSON.parse(denied.text) as { response: { allowed: boolean } }).response.allowed).toBe(false);
    figure('fault: invalid config', {
      requests: count,
      failed: 0,
      invalidConfigsWritten: invalid.length,
      failuresCounted: failures,
      ignoredLogged: ignored.length,
      kinds: invalid.map(([what]) => what),
    });
    expect(await stopServe(s)).toBe(0);
    expect(s.stderr()).toBe('');
  });
});

// Faults of the API server behind `serve --cluster-view`: not there, never answering, gone after the
// caches synced. The webhook must answer every review within the webhook timeout, by onError, and
// recover when the API comes back. The API server here is a small fake, because the faults are what
// is under test; the real API server drives the cluster view in the e2e suite.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  releaseReview,
} from '../fixtures/admission/reviews.js';
import {
  figure,
  logLine,
  reviewResponse,
  send,
  spawnCli,
  stopAllProcesses,
  until,
  validate,
  type ReviewResponse,
  type Target,
} from './support.js';

/** What the fake lists: the Gloo Mesh namespaces and the relay Secrets the production values name. */
const LISTS: Record<string, Array<{ metadata: Record<string, unknown> }>> = {
  '/api/v1/namespaces': [
    { metadata: { name: 'gloo-mesh', labels: {} } },
    { metadata: { name: 'gloo-mesh-addons', labels: { 'istio-injection': 'enabled' } } },
  ],
  '/apis/apps/v1/deployments': [],
  '/api/v1/namespaces/gloo-mesh/secrets': [
    { metadata: { name: 'relay-server-tls-secret', namespace: 'gloo-mesh' } },
    { metadata: { name: 'relay-tls-signing-secret', namespace: 'gloo-mesh' } },
  ],
  '/api/v1/namespaces/gloo-mesh-addons/secrets': [],
};

/** A fake API server: `ok` lists and holds watches open, `hang` accepts and never answers. */
class FakeApi {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  requests = 0;
  /** The Authorization header of each request, in order. */
  readonly authorizations: string[] = [];

  constructor(
    private readonly mode: 'ok' | 'hang',
    private readonly lists: Record<string, unknown[]> = LISTS,
  ) {}

  async listen(port = 0): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  /** Goes away as a crashed API server does: every connection reset, the port closed. */
  async kill(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    this.authorizations.push(req.headers.authorization ?? '');
    if (this.mode === 'hang') return;
    const url = new URL(req.url ?? '/', 'http://api');
    const items = this.lists[url.pathname];
    if (items === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      return;
    }
    if (url.searchParams.get('watch') === '1') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return; // held open: no changes
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'PartialObjectMetadataList', metadata: { resourceVersion: '7' }, items }));
  }
}

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gg-cluster-faults-')), name);
  writeFileSync(file, text);
  return file;
}

function kubeconfigFor(port: number, user: Record<string, unknown> = { token: 'fake-token' }): string {
  return tempFile(
    'kubeconfig',
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
  );
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface ClusterServe extends Target {
  configFile: string;
  logs: Array<Record<string, unknown>>;
  startedMs: number;
}

/** Starts `serve --cluster-view` against `apiPort`, with onError from the config file. */
async function serveWithClusterView(
  apiPort: number,
  onError: 'deny' | 'allow',
  kubeconfig = kubeconfigFor(apiPort),
  nodeArgs: string[] = [],
): Promise<ClusterServe & { stderr: () => string }> {
  const configFile = tempFile('config.yaml', stringify({ onError }));
  const started = performance.now();
  const p = spawnCli(
    ['serve', '--port', '0', '--host', '127.0.0.1', '--cluster-view', '--config', configFile],
    { KUBECONFIG: kubeconfig },
    nodeArgs,
  );
  const port = await until('the listening line', () => {
    if (p.child.exitCode !== null) throw new Error(`serve exited: ${p.stderr()}`);
    const line = logLine(p, 'gloo-guard serving admission reviews');
    return line ? Number(line.port) : undefined;
  });
  const caBundle = String(logLine(p, 'no --tls-cert/--tls-key')?.caBundle);
  return {
    port,
    ca: readFileSync(caBundle, 'utf8'),
    configFile,
    logs: p.logs,
    startedMs: Math.round(performance.now() - started),
    stderr: p.stderr,
  };
}

/** A management-plane release whose relay Secrets only the cluster view can confirm. */
const mgmtRelease = (uid: string): Record<string, unknown> =>
  releaseReview({ values: PRODUCTION_VALUES }, { uid });

async function review(t: Target, uid: string): Promise<{ r: ReviewResponse; ms: number }> {
  const a = await validate(t, mgmtRelease(uid));
  expect(a.status).toBe(200);
  const r = reviewResponse(a);
  expect(r.uid).toBe(uid);
  return { r, ms: Math.round(a.ms) };
}

const CLUSTER_PROBLEM = /cluster cannot be read/;

afterAll(stopAllProcesses);

describe('the API server behind the cluster view fails', { timeout: 600_000 }, () => {
  it('when nothing listens, or it accepts and never answers, then serve starts unready and answers every review without waiting for the API, by onError', async () => {
    const hanging = new FakeApi('hang');
    const [absent, silent] = await Promise.all([
      closedPort().then((port) => serveWithClusterView(port, 'deny')),
      hanging.listen().then((port) => serveWithClusterView(port, 'deny')),
    ]);
    for (const [name, s] of [
      ['absent', absent],
      ['silent', silent],
    ] as const) {
      const ready = await send(s, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.text).toMatch(/not ready: cluster caches not synced: \/api\/v1\/namespaces/);

      const denied = await review(s, `${name}-deny`);
      expect(denied.r.allowed).toBe(false);
      expect(denied.r.status?.message).toMatch(CLUSTER_PROBLEM);
      expect(denied.r.status?.message).toMatch(/onError/);

      // A review that needs no cluster is judged as usual.
      const ns = reviewResponse(await validate(s, objectReview(namespaceObject('team-a'))));
      expect(ns.allowed).toBe(true);

      // onError: allow, by editing the config the server watches: admitted, with a warning saying why.
      writeFileSync(s.configFile, stringify({ onError: 'allow' }));
      await until('the reload', () => (logLine(s, 'config reloaded') ? true : undefined));
      const allowed = await review(s, `${name}-allow`);
      expect(allowed.r.allowed).toBe(true);
      expect(allowed.r.warnings?.join('\n')).toMatch(CLUSTER_PROBLEM);
      figure('cluster view unavailable', {
        api: name,
        startMs: s.startedMs,
        denyMs: denied.ms,
        allowMs: allowed.ms,
      });
    }
    expect(hanging.requests).toBeGreaterThan(0);
    await hanging.kill();
  });

  it('when the API server goes away after the caches synced, then reviews are answered within the timeout by onError, and judged again once it returns', async () => {
    const api = new FakeApi('ok');
    const apiPort = await api.listen();
    const s = await serveWithClusterView(apiPort, 'deny');
    await until('ready', async () => ((await send(s, 'GET', '/readyz')).status === 200 ? true : undefined));
    expect((await review(s, 'synced')).r.allowed).toBe(true);

    await api.kill();
    const killedAt = performance.now();
    let worst = 0;
    const lost = await until('a review answered by onError', async () => {
      const { r, ms } = await review(s, `lost-${Math.round(performance.now())}`);
      worst = Math.max(worst, ms);
      return r.allowed ? undefined : r;
    });
    const noticedMs = Math.round(performance.now() - killedAt);
    expect(lost.status?.message).toMatch(CLUSTER_PROBLEM);
    // Readiness stays: a lost API is answered per review by onError, not by emptying the Service.
    expect((await send(s, 'GET', '/readyz')).status).toBe(200);

    const back = new FakeApi('ok');
    await back.listen(apiPort);
    const returnedAt = performance.now();
    await until('reviews judged again', async () => {
      const { r, ms } = await review(s, `back-${Math.round(performance.now())}`);
      worst = Math.max(worst, ms);
      return r.allowed ? true : undefined;
    });
    const recoveredMs = Math.round(performance.now() - returnedAt);
    figure('API server lost and back', { noticedMs, recoveredMs, slowestReviewMs: worst });
    await back.kill();
  });
});

/** A module hook that says on stderr when client-node is first resolved (tsx's hooks run after it). */
const CLIENT_NODE_LOADED = 'module loaded: @kubernetes/client-node';
const SAY_WHEN_CLIENT_NODE_LOADS = tempFile(
  'hook.mjs',
  [
    "import { registerHooks } from 'node:module';",
    'let said = false;',
    'registerHooks({',
    '  resolve(specifier, context, next) {',
    '    const r = next(specifier, context);',
    "    if (!said && r.url.includes('/node_modules/@kubernetes/client-node/')) {",
    '      said = true;',
    `      process.stderr.write(${JSON.stringify(`${CLIENT_NODE_LOADED}\n`)});`,
    '    }',
    '    return r;',
    '  },',
    '});',
  ].join('\n'),
);

describe('the credentials serve reaches the API server with', { timeout: 600_000 }, () => {
  it('when the kubeconfig holds a token, then the caches sync with it and client-node (about 44 MiB of RSS) is never loaded; with an exec plugin, client-node runs the plugin', async () => {
    const api = new FakeApi('ok');
    const apiPort = await api.listen();
    const hook = ['--import', SAY_WHEN_CLIENT_NODE_LOADS];
    const token = await serveWithClusterView(apiPort, 'deny', kubeconfigFor(apiPort), hook);
    await until('ready', async () =>
      (await send(token, 'GET', '/readyz')).status === 200 ? true : undefined,
    );
    expect((await review(token, 'token')).r.allowed).toBe(true);
    expect(token.stderr()).not.toContain(CLIENT_NODE_LOADED);
    expect(new Set(api.authorizations)).toEqual(new Set(['Bearer fake-token']));

    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'exec-plugin-token' },
    });
    const exec = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: process.execPath,
        args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`],
        interactiveMode: 'Never',
      },
    };
    const before = api.authorizations.length;
    const plugin = await serveWithClusterView(apiPort, 'deny', kubeconfigFor(apiPort, exec), hook);
    await until('ready', async () =>
      (await send(plugin, 'GET', '/readyz')).status === 200 ? true : undefined,
    );
    expect((await review(plugin, 'plugin')).r.allowed).toBe(true);
    expect(plugin.stderr()).toContain(CLIENT_NODE_LOADED);
    expect(new Set(api.authorizations.slice(before))).toEqual(new Set(['Bearer exec-plugin-token']));
    await api.kill();
  });
});

describe('the periodic audit meets an error that is not an API error', { timeout: 120_000 }, () => {
  it('when a list holds an item that is not an object, then the audit fails, says so, and the server keeps serving', async () => {
    // `items: [null]` makes reading the list throw a TypeError, as any unexpected bug would.
    const api = new FakeApi('ok', {
      '/api/v1/namespaces': [{ metadata: { name: 'gloo-mesh' } }],
      '/apis/apps/v1/deployments': [null],
    });
    const apiPort = await api.listen();
    const p = spawnCli(['serve', '--port', '0', '--host', '127.0.0.1', '--audit-interval', '10s'], {
      KUBECONFIG: kubeconfigFor(apiPort),
    });
    const failed = await until(
      'the audit failure',
      () => {
        if (p.child.exitCode !== null) throw new Error(`serve exited (${p.child.exitCode}): ${p.stderr()}`);
        return logLine(p, 'audit failed');
      },
      60_000,
    );
    expect(failed).toMatchObject({ level: 'error', err: { type: 'TypeError' } });
    expect(failed.msg).toBe('audit failed: internal error; the next run will try again');
    const port = Number(logLine(p, 'gloo-guard serving admission reviews')?.port);
    const ca = readFileSync(String(logLine(p, 'no --tls-cert/--tls-key')?.caBundle), 'utf8');
    const t = { port, ca };
    expect(p.child.exitCode).toBeNull();
    const metrics = await send(t, 'GET', '/metrics');
    expect(metrics.text).toContain('gloo_guard_audit_runs_total{result="failure"} 1');
    expect(reviewResponse(await validate(t, objectReview(namespaceObject('team-a')))).allowed).toBe(true);
    expect(p.stderr()).not.toMatch(/Unhandled|TypeError/);
    await api.kill();
  });
});

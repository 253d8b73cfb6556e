/** What every e2e scenario uses: real helm, the real gloo-guard process, the chart's webhook configuration. */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Kubeconfig } from '../../src/k8s/kubeconfig.js';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { KubeApiError, KubeRest } from '../../src/k8s/rest.js';
import { helmBin, type HelmMajor } from '../../scripts/helm-bin.js';
import { chartNodeArgs } from '../../scripts/node-options.js';
import { startCluster, type Cluster } from './cluster/cluster.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Where global-setup compiles gloo-guard, and its entry point. */
export const E2E_DIST = join(ROOT, '.cache/e2e-dist');
export const GLOO_GUARD = join(E2E_DIST, 'cli/main.js');
export const CHARTS = join(ROOT, 'test/e2e/charts');
/** The Helm majors every scenario runs with. */
export const MAJORS: HelmMajor[] = ['v3', 'v4'];

/** Compiles gloo-guard into E2E_DIST: the webhook and the CLI run compiled, as the image runs them. */
export function buildGlooGuard(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', E2E_DIST], { cwd: ROOT });
}

/** Starts the real kube-apiserver + etcd (test/e2e/cluster), its progress on stderr. */
export function startE2eCluster(): Promise<Cluster> {
  return startCluster({ log: (s) => process.stderr.write(`${s}\n`) });
}

/** A Deployment object with one container, named like it, running `${name}:1`. */
export function deployment(
  name: string,
  namespace: string,
  labels: Record<string, string> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
    },
  };
}

/** Runs the jobs `width` at a time (filling a cluster with objects). */
export async function inParallel(jobs: Array<() => Promise<unknown>>, width = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await jobs[next++]?.();
    }),
  );
}

/** A Namespace object. */
export function namespace(name: string, labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** What the global setup shares with every test file. */
export interface ClusterInfo {
  kubeconfigPath: string;
  server: string;
  caPem: string;
  servingCertPem: string;
  servingKeyPem: string;
}

/** A REST client for the e2e cluster (the project's own, the one the audit uses). */
export function kube(info: ClusterInfo): KubeRest {
  return new KubeRest(Kubeconfig.load(info.kubeconfigPath).access(), 15_000);
}

/** The result of a command. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, as a user sees them. */
  out: string;
}

const helmHome = mkdtempSync(join(tmpdir(), 'gg-helm-home-'));

/** Runs real helm (3 or 4) against the e2e cluster. Never --wait, --atomic or hooks here. */
export function helm(
  major: HelmMajor,
  info: ClusterInfo,
  args: string[],
  env: Record<string, string> = {},
): Run {
  const r = spawnSync(helmBin(major), args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: helmHome,
      KUBECONFIG: info.kubeconfigPath,
      HELM_CACHE_HOME: join(helmHome, major, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, major, 'config'),
      HELM_DATA_HOME: join(helmHome, major, 'data'),
      NO_PROXY: '127.0.0.1,localhost',
      ...env,
    },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, out: `${r.stdout}${r.stderr}` };
}

/** Writes a values or config file into a temp dir and returns its path. */
export function tempFile(name: string, content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'gg-e2e-'));
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : stringify(content));
  return p;
}

/** A running gloo-guard server process. */
export interface Webhook {
  url: string;
  port: number;
  /** The CA file the server logged when it made its own certificate (no certFile given). */
  caFile?: string;
  process: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

/** How to start `gloo-guard serve`; every field is optional. */
export interface WebhookOptions {
  /** The config file's content; without it, no --config (the server's defaults). */
  config?: unknown;
  /** The certificate to serve with (servingCert); without it, the server makes its own. */
  certFile?: string;
  keyFile?: string;
  /** The port; 0 (the default) lets the system pick one. */
  port?: number;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Pass the server's stderr through (long studies) instead of keeping it in `logs`. */
  inheritStderr?: boolean;
  /** How long to wait for "serving admission reviews" (a large cluster view syncs first). */
  readyTimeoutMs?: number;
}

const servingFiles = new WeakMap<ClusterInfo, { certFile: string; keyFile: string }>();

/** The e2e cluster's serving certificate (the one its caPem signs) as files for --tls-cert/--tls-key. */
export function servingCert(info: ClusterInfo): { certFile: string; keyFile: string } {
  let files = servingFiles.get(info);
  if (!files) {
    files = {
      certFile: tempFile('tls.crt', info.servingCertPem),
      keyFile: tempFile('tls.key', info.servingKeyPem),
    };
    servingFiles.set(info, files);
  }
  return files;
}

function serveArgs(opts: WebhookOptions): string[] {
  return [
    GLOO_GUARD,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(opts.port ?? 0),
    ...(opts.config === undefined ? [] : ['--config', tempFile('config.yaml', opts.config)]),
    ...(opts.certFile ? ['--tls-cert', opts.certFile] : []),
    ...(opts.keyFile ? ['--tls-key', opts.keyFile] : []),
    ...(opts.extraArgs ?? []),
  ];
}

/** Starts the real `gloo-guard serve` on loopback; resolves when it says it serves. */
export async function startWebhook(opts: WebhookOptions): Promise<Webhook> {
  // Run as the chart runs it: with its nodeOptions.
  const child = spawn(process.execPath, [...chartNodeArgs(), ...serveArgs(opts)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', opts.inheritStderr ? 'inherit' : 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const logs: string[] = [];
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  let caFile: string | undefined;
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`gloo-guard did not start:\n${logs.join('')}`)),
      opts.readyTimeoutMs ?? 60_000,
    );
    child.on('exit', (code) => rej(new Error(`gloo-guard exited with ${String(code)}:\n${logs.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      caFile = /"caBundle":"([^"]+)"/.exec(line)?.[1] ?? caFile;
      const m = /"port":(\d+)/.exec(line);
      if (m && line.includes('serving admission reviews')) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
  });
  return {
    url: `https://127.0.0.1:${port}/validate`,
    port,
    ...(caFile ? { caFile } : {}),
    process: child,
    logs,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * A webhook as the cluster meets it: registered with the chart's configuration. stop() stops only
 * the server (the configuration stays, as when its pods are gone); close() undoes both.
 */
export interface RegisteredWebhook extends Webhook {
  vwc: Record<string, unknown>;
  vwcName: string;
  close(): Promise<void>;
}

/**
 * Starts gloo-guard with the cluster's serving certificate and registers the chart's webhook
 * configuration (rendered with `values`, seeing `apiVersions` as served) pointed at it.
 */
export async function serveRegistered(
  rest: KubeRest,
  info: ClusterInfo,
  opts: WebhookOptions & { values?: Record<string, unknown>; apiVersions?: string[] } = {},
): Promise<RegisteredWebhook> {
  const webhook = await startWebhook({ ...servingCert(info), ...opts });
  const vwc = webhookConfiguration({
    url: webhook.url,
    caPem: info.caPem,
    values: opts.values ?? {},
    ...(opts.apiVersions ? { apiVersions: opts.apiVersions } : {}),
  });
  const vwcName = (vwc.metadata as { name: string }).name;
  try {
    await registerWebhook(rest, vwc);
  } catch (err: unknown) {
    await webhook.stop();
    throw err;
  }
  return {
    ...webhook,
    vwc,
    vwcName,
    close: async () => {
      await unregisterWebhook(rest, vwcName);
      await webhook.stop();
    },
  };
}

/** The webhook chart's objects, as `helm template` (real Helm 3) renders them. */
export function renderWebhookChart(
  opts: {
    release?: string;
    namespace?: string;
    values?: Record<string, unknown>;
    /** APIs the chart should see as served (`group/version/Kind`), for webhooks rendered only where their API exists. */
    apiVersions?: string[];
  } = {},
): Array<Record<string, unknown>> {
  const values = tempFile('values.yaml', opts.values ?? {});
  const r = helm('v3', { kubeconfigPath: '/dev/null' } as ClusterInfo, [
    'template',
    opts.release ?? 'gloo-guard',
    join(ROOT, 'charts/webhook'),
    '-n',
    opts.namespace ?? 'gloo-guard',
    '-f',
    values,
    ...(opts.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
  ]);
  if (r.code !== 0) throw new Error(`helm template charts/webhook failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
}

/** The chart's ValidatingWebhookConfiguration (from `helm template charts/webhook`), pointed at a local URL. */
export function webhookConfiguration(opts: {
  url: string;
  caPem: string;
  values?: Record<string, unknown>;
  /** APIs the chart should see as served (`group/version/Kind`), for webhooks rendered only where their API exists. */
  apiVersions?: string[];
}): Record<string, unknown> {
  const vwc = renderWebhookChart(opts).find((d) => d.kind === 'ValidatingWebhookConfiguration');
  if (!vwc) throw new Error('the chart rendered no ValidatingWebhookConfiguration');
  const caBundle = Buffer.from(opts.caPem).toString('base64');
  for (const w of vwc.webhooks as Array<Record<string, unknown>>) {
    const path = ((w.clientConfig as { service?: { path?: string } }).service?.path ?? '/validate').replace(
      /^\//,
      '',
    );
    w.clientConfig = { url: opts.url.replace(/\/validate$/, `/${path}`), caBundle };
  }
  return vwc;
}

/** Creates or replaces a cluster-scoped or namespaced object by its REST path. */
export async function apply(rest: KubeRest, collection: string, obj: Record<string, unknown>): Promise<void> {
  const name = (obj.metadata as { name: string }).name;
  const existing = await rest.call('GET', `${collection}/${name}`);
  if (existing.status === 404) {
    const r = await rest.call('POST', collection, { body: obj });
    if (r.status >= 300) throw new Error(`create ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return;
  }
  const rv = (existing.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const r = await rest.call('PUT', `${collection}/${name}`, {
    body: { ...obj, metadata: { ...(obj.metadata as object), resourceVersion: rv } },
  });
  if (r.status >= 300) throw new Error(`replace ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
}

export const VWC_PATH = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

/** Points the cluster at a webhook, with the chart's rules; resolves once the API server enforces it. */
export async function registerWebhook(rest: KubeRest, vwc: Record<string, unknown>): Promise<void> {
  await apply(rest, VWC_PATH, vwc);
  await webhookConfigsSeen(rest);
}

/** Removes the webhook configuration (for installing "before the webhook existed"); resolves once the API server dropped it. */
export async function unregisterWebhook(rest: KubeRest, name: string): Promise<void> {
  await rest.call('DELETE', `${VWC_PATH}/${name}`);
  await webhookConfigsSeen(rest);
}

const SENTINEL_LABEL = 'e2e.gloo-guard.io/sentinel';

/** A webhook configuration that judges only a ConfigMap labelled `nonce`, at a port where nothing listens. */
function sentinel(name: string, hook: string, nonce: string): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: hook,
        // Port 1: the API server's call fails at once, and its error names the hook.
        clientConfig: { url: 'https://127.0.0.1:1/sentinel' },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
        objectSelector: { matchLabels: { [SENTINEL_LABEL]: nonce } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 5,
      },
    ],
  };
}

/**
 * Resolves once the API server enforces every webhook configuration written before the call: it
 * reads them through an informer, so a write takes effect a moment later, longer on a loaded
 * machine. The informer receives them on one watch in write order, and its handlers run in that
 * order; the API server keeps each configuration's webhooks cached by name until the handler for
 * its change has run, even if its store already holds later writes. So a sentinel configuration is
 * written, then changed: once a dry-run ConfigMap with the changed label is sent to it (its call
 * fails, naming it), the handlers of every earlier write have run. A gloo-guard webhook's own answer
 * could not show this: a replaced configuration keeps its names and maybe its server, and audit
 * mode or a stopped server answers nothing visible.
 */
export async function webhookConfigsSeen(rest: KubeRest, ms = 90_000): Promise<void> {
  const id = randomUUID();
  const name = `gloo-guard-e2e-sentinel-${id}`;
  const hook = `s${id.slice(0, 8)}.sentinel.e2e.gloo-guard.io`;
  try {
    for (const nonce of [`a-${id}`, `b-${id}`]) {
      await apply(rest, VWC_PATH, sentinel(name, hook, nonce));
      const probe = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'sentinel-probe', labels: { [SENTINEL_LABEL]: nonce } },
      };
      await waitFor(
        'the API server to enforce the webhook configurations written so far',
        async () => {
          const r = await attempt(rest, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', probe);
          return r.message.includes(`"${hook}"`);
        },
        ms,
        25,
      );
    }
  } finally {
    // Suites list the webhook configurations; the sentinel must not be among them.
    await rest.call('DELETE', `${VWC_PATH}/${name}`);
  }
}

/** A kubeconfig for the e2e cluster holding a token the API server issued to a ServiceAccount. */
export async function serviceAccountKubeconfig(
  rest: KubeRest,
  info: ClusterInfo,
  namespace: string,
  sa: string,
): Promise<string> {
  const tr = await rest.call('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const token = (tr.body as { status?: { token?: string } }).status?.token;
  if (!token) throw new Error(`no token for ${sa}: HTTP ${tr.status}`);
  const kc = parse(readFileSync(info.kubeconfigPath, 'utf8')) as { users: Array<{ user: unknown }> };
  for (const u of kc.users) u.user = { token };
  return tempFile('kubeconfig', kc);
}

/** What a webhook's /metrics says, over HTTPS trusting `ca` (the CA of its certificate). */
export function webhookMetrics(webhook: Pick<Webhook, 'url'>, ca: string): Promise<string> {
  const url = new URL(webhook.url.replace(/\/validate$/, '/metrics'));
  return new Promise((res, rej) => {
    httpsRequest(url, { ca }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(body));
    })
      .on('error', rej)
      .end();
  });
}

/** POSTs an AdmissionReview (JSON text) to the webhook itself, not through the API server, and returns its answer. */
export function askWebhook(
  webhook: Pick<Webhook, 'url'>,
  ca: string,
  review: string,
): Promise<{ allowed: boolean; message: string }> {
  return new Promise((res, rej) => {
    const req = httpsRequest(
      webhook.url,
      { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            response: { allowed: boolean; status?: { message?: string } };
          };
          res({ allowed: body.response.allowed, message: body.response.status?.message ?? '' });
        });
      },
    );
    req.on('error', rej);
    req.end(review);
  });
}

/** The sum of the metric samples whose line starts with `prefix` (a name, maybe with labels). */
export function metricSum(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

/**
 * Polls every `everyMs` until `fn` gives a value (not undefined or false): a state the cluster or the
 * server reaches. `ms` only bounds a failure; it is never waited out on success.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  ms = 90_000,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Release Secrets of a release, from the API. */
export async function releaseSecrets(
  rest: KubeRest,
  ns: string,
  release: string,
): Promise<Array<{ name: string; status: string }>> {
  const out: Array<{ name: string; status: string }> = [];
  for await (const s of rest.list<{ metadata: { name: string; labels: Record<string, string> } }>(
    `/api/v1/namespaces/${ns}/secrets`,
    { labelSelector: `owner=helm,name=${release}` },
  )) {
    out.push({ name: s.metadata.name, status: s.metadata.labels.status ?? '' });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Names of the Deployments in a namespace. */
export async function deploymentNames(rest: KubeRest, ns: string): Promise<string[]> {
  const names: string[] = [];
  for await (const d of rest.list<{ metadata: { name: string } }>(
    `/apis/apps/v1/namespaces/${ns}/deployments`,
  ))
    names.push(d.metadata.name);
  return names.sort();
}

/** An API call as kubectl makes it: the status and the message the user would see, denials included. */
export async function attempt(
  rest: KubeRest,
  method: string,
  path: string,
  body: unknown,
  contentType?: string,
): Promise<{ status: number; message: string }> {
  try {
    const r = await rest.call(method, path, { body, ...(contentType ? { contentType } : {}) });
    return { status: r.status, message: (r.body as { message?: string } | undefined)?.message ?? '' };
  } catch (err: unknown) {
    if (err instanceof KubeApiError && err.status !== undefined)
      return { status: err.status, message: err.message };
    throw err;
  }
}

/** Creates an object unless it exists already (tests share one cluster, in any order). */
export async function ensure(rest: KubeRest, path: string, body: unknown): Promise<void> {
  const r = await attempt(rest, 'POST', path, body);
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${path}: ${r.status} ${r.message}`);
}

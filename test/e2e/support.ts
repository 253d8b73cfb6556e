/** What every e2e scenario uses: real helm, the real gloo-guard process, the chart's webhook configuration. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { KubeApiError, KubeRest } from '../../src/k8s/rest.js';
import { helmBin, type HelmMajor } from '../../scripts/helm-bin.js';

export const ROOT = resolve(import.meta.dirname, '../..');
/** Where global-setup compiles gloo-guard, and its entry point. */
export const E2E_DIST = join(ROOT, '.cache/e2e-dist');
export const GLOO_GUARD = join(E2E_DIST, 'cli/main.js');
export const CHARTS = join(ROOT, 'test/e2e/charts');

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
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  return new KubeRest(kc, 15_000);
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
  process: ChildProcess;
  logs: string[];
  stop(): Promise<void>;
}

/** Starts the real `gloo-guard serve` on loopback with the given config and certificate files. */
export async function startWebhook(opts: {
  config: unknown;
  certFile: string;
  keyFile: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}): Promise<Webhook> {
  const configFile = tempFile('config.yaml', opts.config);
  const child = spawn(
    process.execPath,
    [
      GLOO_GUARD,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--config',
      configFile,
      '--tls-cert',
      opts.certFile,
      '--tls-key',
      opts.keyFile,
      ...(opts.extraArgs ?? []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  const logs: string[] = [];
  child.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`gloo-guard did not start:\n${logs.join('')}`)), 60_000);
    child.on('exit', (code) => rej(new Error(`gloo-guard exited with ${String(code)}:\n${logs.join('')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      const m = /"port":(\d+)/.exec(line);
      if (m && line.includes('serving admission reviews')) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
  });
  return {
    url: `https://127.0.0.1:${port}/validate`,
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

/** The chart's ValidatingWebhookConfiguration (from `helm template charts/webhook`), pointed at a local URL. */
export function webhookConfiguration(opts: {
  url: string;
  caPem: string;
  values?: Record<string, unknown>;
  /** APIs the chart should see as served (`group/version/Kind`), for webhooks rendered only where their API exists. */
  apiVersions?: string[];
}): Record<string, unknown> {
  const values = tempFile('values.yaml', opts.values ?? {});
  const r = helm('v3', { kubeconfigPath: '/dev/null' } as ClusterInfo, [
    'template',
    'gloo-guard',
    join(ROOT, 'charts/webhook'),
    '-n',
    'gloo-guard',
    '-f',
    values,
    ...(opts.apiVersions ?? []).flatMap((v) => ['--api-versions', v]),
  ]);
  if (r.code !== 0) throw new Error(`helm template charts/webhook failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown> | null);
  const vwc = docs.find((d) => d?.kind === 'ValidatingWebhookConfiguration');
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

/** Points the cluster at a webhook, with the chart's rules; waits until the API server calls it. */
export async function registerWebhook(rest: KubeRest, vwc: Record<string, unknown>): Promise<void> {
  await apply(rest, VWC_PATH, vwc);
  // The API server picks up webhook configurations through an informer: give it a moment.
  await new Promise((r) => setTimeout(r, 1500));
}

/** Removes the webhook configuration (for installing "before the webhook existed"). */
export async function unregisterWebhook(rest: KubeRest, name: string): Promise<void> {
  await rest.call('DELETE', `${VWC_PATH}/${name}`);
  await new Promise((r) => setTimeout(r, 1500));
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

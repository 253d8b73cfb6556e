/** The three servers under test, each started the way a user would run it, pinned to the server core. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateServingBundle } from '../src/certs/generate.js';
import { POLICIES } from '../src/policies/index.js';
import { chartNodeArgs } from '../scripts/node-options.js';
import { waitReady, type Target } from './client.js';
import { readRss, waitForQuiet } from './memory.js';
import type { ServerName } from './plan.js';
import { freePort, startPinned, stop, type Started } from './processes.js';
import type { ReviewName } from './reviews.js';

/** One certificate for every server, so TLS costs the same everywhere. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  ca: string;
}

/** Writes a CA and a serving certificate for 127.0.0.1 into `dir`. */
export function writeTls(dir: string): TlsFiles {
  const bundle = generateServingBundle({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, bundle.serving.certPem);
  writeFileSync(keyFile, bundle.serving.keyPem, { mode: 0o600 });
  return { certFile, keyFile, ca: bundle.ca.certPem };
}

/**
 * Writes a config that turns every built-in policy off into `dir` and returns its path: the server
 * reads and answers, and judges nothing (gloo-guard's own cost, for bench/server-cost.ts and
 * bench/paced-cost.ts).
 */
export function writeAllOffConfig(dir: string): string {
  const file = join(dir, 'all-off.json');
  const policies = Object.fromEntries(POLICIES.map((p) => [p.id, { action: 'off' }]));
  writeFileSync(file, JSON.stringify({ policies }));
  return file;
}

/** How to start a server and what it is measured with. */
export interface ServerDef {
  name: ServerName;
  /** What the report calls it. */
  label: string;
  color: string;
  /** The reviews it can answer (OPA cannot gunzip, so it has no release case). */
  reviews: ReviewName[];
  /** The path the webhook's clientConfig would name. */
  path: string;
  command(port: number, tls: TlsFiles): { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** How the report shows the command. */
  display: string;
}

/** Every review the benchmark sends, in the order it measures them. */
export const ALL_REVIEWS: ReviewName[] = ['deployment', 'namespace', 'release-small', 'release-large'];

/** gloo-guard as built by tsc and run with node, as in its container image, with the chart's `nodeOptions`. */
export function glooGuardDef(mainJs: string, extraNodeArgs: string[] = [], config?: string): ServerDef {
  const nodeArgs = chartNodeArgs();
  return {
    name: 'gloo-guard',
    label: 'gloo-guard',
    color: '#1f77b4',
    reviews: ALL_REVIEWS,
    path: '/validate',
    command: (port, tls) => ({
      command: process.execPath,
      args: [
        ...nodeArgs,
        ...extraNodeArgs,
        mainJs,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--tls-cert',
        tls.certFile,
        '--tls-key',
        tls.keyFile,
        ...(config !== undefined ? ['--config', config] : []),
      ],
    }),
    display: [
      'node',
      ...nodeArgs,
      "dist/cli/main.js serve --tls-cert … --tls-key … (the chart's nodeOptions, default config, JSON logs to a file)",
    ].join(' '),
  };
}

/** The bare Node server that only parses (and decodes releases). */
export function limitDef(serverJs: string, extraNodeArgs: string[] = []): ServerDef {
  return {
    name: 'limit',
    label: 'limit (bare Node)',
    color: '#7f7f7f',
    reviews: ALL_REVIEWS,
    path: '/',
    command: (port, tls) => ({
      command: process.execPath,
      args: [
        ...extraNodeArgs,
        serverJs,
        '--port',
        String(port),
        '--cert',
        tls.certFile,
        '--key',
        tls.keyFile,
      ],
    }),
    display: 'node limit-server.mjs (https + JSON.parse; releases: base64, base64, gunzip, JSON.parse)',
  };
}

/** OPA serving the Rego policies as its default decision (POST / answers an AdmissionReview). */
export function opaDef(binary: string, policyDir: string): ServerDef {
  return {
    name: 'opa',
    label: 'OPA (Rego)',
    color: '#d62728',
    reviews: ['deployment', 'namespace'],
    path: '/',
    command: (port, tls) => ({
      command: binary,
      args: [
        'run',
        '--server',
        '--addr',
        `127.0.0.1:${port}`,
        '--tls-cert-file',
        tls.certFile,
        '--tls-private-key-file',
        tls.keyFile,
        '--log-level',
        'error',
        '--skip-version-check',
        policyDir,
      ],
    }),
    display:
      'opa run --server --tls-cert-file … --tls-private-key-file … --log-level error --skip-version-check bench/opa/policy',
  };
}

/** A running server. */
export interface RunningServer {
  def: ServerDef;
  process: Started;
  target: Target;
  startupMs: number;
  idleRssMiB: number;
}

/** Starts a server pinned to the server core and waits until it answers `readyBody`. */
export async function startServer(
  def: ServerDef,
  tls: TlsFiles,
  logDir: string,
  readyBody: Buffer,
): Promise<RunningServer> {
  const port = await freePort();
  const cmd = def.command(port, tls);
  const started = Date.now();
  const proc = startPinned(cmd.command, cmd.args, join(logDir, `${def.name}.log`), cmd.env);
  const target: Target = { url: `https://127.0.0.1:${port}${def.path}`, ca: tls.ca };
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  try {
    await waitReady(target, readyBody, () => !exited);
  } catch (err: unknown) {
    await stop(proc);
    throw new Error(
      `${def.label} did not start (log: ${proc.logFile}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const startupMs = Date.now() - started;
  // Ready is not settled: gloo-guard warms its release worker up after it listens (about a second of
  // CPU on the server core). Idle RSS and the first load run wait until the machine is quiet again.
  await waitForQuiet(30);
  return { def, process: proc, target, startupMs, idleRssMiB: readRss(proc.pid)?.rssMiB ?? Number.NaN };
}

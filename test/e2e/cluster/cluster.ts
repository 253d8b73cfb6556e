// Starts a real etcd + kube-apiserver on loopback for end-to-end tests.
//
// The binaries are built from the Go module proxy by ./build.sh (cached under
// <repo>/.cache/e2e-bin). Certificates come from the openssl CLI. There are no
// controllers, scheduler or nodes: objects are only stored, admission webhooks
// are called for real. See ./README.md.
//
// Node built-ins only, so this file can be imported by vitest or run with tsx:
//   npx tsx test/e2e/cluster/cluster.ts   # start, print KUBECONFIG, Ctrl-C stops
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));

export interface Cluster {
  /** kubeconfig with the CA data and the admin bearer token (context "e2e", namespace "default"). */
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  /** PEM of the CA that signed the apiserver's serving certificate (also signs servingCertPem). */
  caPem: string;
  /** Bearer token of a user in system:masters. */
  token: string;
  /** Temp dir holding certs, tokens.csv, etcd data and the *.log files; removed by stop(). */
  workDir: string;
  /**
   * A spare serving certificate/key signed by caPem, valid for IP:127.0.0.1 and DNS:localhost.
   * Use it for a webhook server on loopback with `caBundle: base64(caPem)`.
   */
  servingCertPem: string;
  servingKeyPem: string;
  /** Stops both processes (SIGTERM, then SIGKILL after a grace period) and removes workDir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Receives progress lines (build output, startup steps). Defaults to writing to stderr. */
  log?: (s: string) => void;
  /** How long to wait for /readyz, in ms. Default 120 000 (or E2E_READY_TIMEOUT_MS). */
  readyTimeoutMs?: number;
}

const LOG_TAIL_LINES = 40;
const STOP_GRACE_MS = 10_000;

// ---------------------------------------------------------------------------
// build

let buildPromise: Promise<string> | undefined;

/** Runs build.sh once per process (it is a no-op when the stamp matches) and returns the bin dir. */
function ensureBinaries(log: (s: string) => void): Promise<string> {
  buildPromise ??= new Promise<string>((resolveP, rejectP) => {
    const child = spawn('bash', [join(HERE, 'build.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let errTail: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    forEachLine(child.stderr, (line) => {
      log(line);
      errTail = [...errTail, line].slice(-LOG_TAIL_LINES);
    });
    child.on('error', rejectP);
    child.on('close', (code) => {
      const binDir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && binDir) resolveP(binDir);
      else rejectP(new Error(`build.sh failed (exit ${code}):\n${errTail.join('\n')}`));
    });
  });
  // Let a later call retry after a failure.
  buildPromise.catch(() => (buildPromise = undefined));
  return buildPromise;
}

function forEachLine(stream: NodeJS.ReadableStream, fn: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => {
    if (buf) fn(buf);
  });
}

// ---------------------------------------------------------------------------
// certificates (openssl CLI)

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  try {
    await execFileP('openssl', args, { cwd });
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new Error('openssl not found on PATH (apt-get install openssl)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** CA, a serving cert for the apiserver, a spare one for webhooks, and the service-account key pair. */
async function generatePki(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '7',
    '-subj',
    '/CN=gloo-guard-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  await writeFile(
    join(dir, 'serving.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\n' +
      'extendedKeyUsage=serverAuth\n' +
      'keyUsage=critical,digitalSignature,keyEncipherment\n',
  );
  for (const name of ['apiserver', 'webhook']) {
    await openssl(
      dir,
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    await openssl(
      dir,
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '7',
      '-extfile',
      'serving.ext',
      '-out',
      `${name}.crt`,
    );
  }
  await openssl(dir, 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key');
  await openssl(dir, 'pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
}

// ---------------------------------------------------------------------------
// processes

/** Reserves `n` distinct free loopback ports (all held open at once, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const srv = createServer();
      return new Promise<ReturnType<typeof createServer>>((ok, fail) => {
        srv.once('error', fail);
        srv.listen(0, '127.0.0.1', () => ok(srv));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<void>;
  exitInfo?: string;
}

function startProc(name: string, bin: string, args: string[], workDir: string): Proc {
  const logPath = join(workDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(bin, args, { cwd: workDir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const proc: Proc = { name, child, logPath, exited: Promise.resolve() };
  proc.exited = new Promise<void>((ok) => {
    child.once('exit', (code, signal) => {
      proc.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      ok();
    });
    child.once('error', (e) => {
      proc.exitInfo = `failed to start: ${e.message}`;
      ok();
    });
  });
  return proc;
}

function isRunning(p: Proc): boolean {
  return p.exitInfo === undefined;
}

async function stopProc(p: Proc): Promise<void> {
  if (!isRunning(p)) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), STOP_GRACE_MS);
  await p.exited;
  clearTimeout(timer);
}

function logTail(path: string, lines = LOG_TAIL_LINES): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// Everything still running gets SIGKILLed when this process exits, however it exits.
interface LiveCluster {
  procs: Proc[];
  workDir: string;
  watchdog?: ChildProcess;
}
const live = new Set<LiveCluster>();
let exitHooksInstalled = false;

function killAllNow(): void {
  for (const c of live) {
    for (const p of c.procs) if (isRunning(p)) p.child.kill('SIGKILL');
    c.watchdog?.kill('SIGKILL');
    if (!process.env.E2E_KEEP_WORKDIR) rmSync(c.workDir, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    try {
      process.once(sig, () => {
        // If nobody else handles the signal, clean up and die of it as we would have without this hook.
        if (process.listenerCount(sig) === 0) {
          killAllNow();
          process.kill(process.pid, sig);
        }
      });
    } catch {
      // signals can't be observed in worker threads; the 'exit' hook still applies there.
    }
  }
}

/**
 * A detached `sh` loop that kills the processes and removes workDir if this Node process dies
 * without running its exit hooks (SIGKILL, OOM kill).
 */
function startWatchdog(pids: number[], workDir: string): ChildProcess {
  const script =
    'p=$1; d=$2; shift 2; while kill -0 "$p" 2>/dev/null; do sleep 2; done; ' +
    'kill -TERM "$@" 2>/dev/null; sleep 5; kill -KILL "$@" 2>/dev/null; rm -rf "$d"';
  const wd = spawn(
    'sh',
    ['-c', script, 'e2e-cluster-watchdog', String(process.pid), workDir, ...pids.map(String)],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  wd.unref();
  return wd;
}

// ---------------------------------------------------------------------------
// HTTP helpers

function get(
  url: string,
  opts: { ca?: string; token?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.get(
      u,
      {
        ca: opts.ca,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs ?? 5_000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', fail);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true; throws if a process dies or the deadline passes. */
async function waitFor(
  what: string,
  deadline: number,
  procs: Proc[],
  check: () => Promise<boolean>,
): Promise<void> {
  let lastErr = '';
  for (;;) {
    for (const p of procs) {
      if (!isRunning(p)) throw new Error(`${p.name} ${p.exitInfo} while waiting for ${what}`);
    }
    try {
      if (await check()) return;
    } catch (e) {
      lastErr = (e as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`);
    }
    await sleep(250);
  }
}

// ---------------------------------------------------------------------------
// startCluster

export async function startCluster(opts: StartClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const readyTimeoutMs = opts.readyTimeoutMs ?? (Number(process.env.E2E_READY_TIMEOUT_MS) || 120_000);
  const binDir = await ensureBinaries(log);
  installExitHooks();

  // A port picked by freePorts() can be taken by someone else before etcd/apiserver bind it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, readyTimeoutMs, log);
    } catch (e) {
      if (attempt < 3 && e instanceof PortInUseError) {
        log(`[e2e-cluster] ${e.message}; retrying with other ports`);
        continue;
      }
      throw e;
    }
  }
}

class PortInUseError extends Error {}

async function startOnce(binDir: string, readyTimeoutMs: number, log: (s: string) => void): Promise<Cluster> {
  const t0 = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'gloo-guard-e2e-'));
  const pki = join(workDir, 'pki');
  await mkdir(pki);
  const entry: LiveCluster = { procs: [], workDir };
  live.add(entry);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // apiserver first, so it doesn't spend the grace period retrying a dead etcd.
      for (const p of [...entry.procs].reverse()) await stopProc(p);
      entry.watchdog?.kill('SIGKILL');
      live.delete(entry);
      if (!process.env.E2E_KEEP_WORKDIR) await rm(workDir, { recursive: true, force: true });
    })());

  try {
    await generatePki(pki);
    const token = randomBytes(24).toString('hex');
    await writeFile(join(workDir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    const [etcdClient, etcdPeer, apiPort] = (await freePorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const deadline = Date.now() + readyTimeoutMs;

    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = startProc(
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=e2e',
        `--data-dir=${join(workDir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=e2e=${peerUrl}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      workDir,
    );
    entry.procs.push(etcd);
    await waitFor(
      'etcd /health',
      deadline,
      [etcd],
      async () => (await get(`${etcdUrl}/health`)).status === 200,
    );

    const apiserver = startProc(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--cert-dir=${pki}`,
        `--token-auth-file=${join(workDir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        // The "kubernetes" Service would get 127.0.0.1 endpoints, which validation rejects.
        '--endpoint-reconciler-type=none',
      ],
      workDir,
    );
    entry.procs.push(apiserver);
    entry.watchdog = startWatchdog(
      entry.procs.map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined),
      workDir,
    );

    const caPem = await readFile(join(pki, 'ca.crt'), 'utf8');
    log(`[e2e-cluster] waiting for kube-apiserver at ${server} …`);
    await waitFor('kube-apiserver /readyz', deadline, [etcd, apiserver], async () => {
      return (await get(`${server}/readyz`, { ca: caPem, token })).status === 200;
    });
    // /readyz can pass a moment before the system namespaces exist.
    await waitFor('the default and kube-system namespaces', deadline, [etcd, apiserver], async () => {
      for (const ns of ['default', 'kube-system']) {
        if ((await get(`${server}/api/v1/namespaces/${ns}`, { ca: caPem, token })).status !== 200)
          return false;
      }
      return true;
    });

    const kubeconfigPath = join(workDir, 'kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(server, caPem, token), { mode: 0o600 });
    log(`[e2e-cluster] cluster ready at ${server} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return {
      kubeconfigPath,
      server,
      caPem,
      token,
      workDir,
      servingCertPem: await readFile(join(pki, 'webhook.crt'), 'utf8'),
      servingKeyPem: await readFile(join(pki, 'webhook.key'), 'utf8'),
      stop,
    };
  } catch (e) {
    const [etcd, apiserver] = entry.procs;
    const tails = [apiserver, etcd]
      .filter((p): p is Proc => p !== undefined)
      .map((p) => `--- last lines of ${p.name}.log (${p.exitInfo ?? 'running'}) ---\n${logTail(p.logPath)}`)
      .join('\n');
    const portInUse = /address already in use/.test(tails);
    await stop().catch(() => undefined);
    const msg = `[e2e-cluster] failed to start: ${(e as Error).message}\n${tails}`;
    throw portInUse ? new PortInUseError(msg) : new Error(msg, { cause: e });
  }
}

function kubeconfig(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster:
      server: ${server}
      certificate-authority-data: ${ca}
users:
  - name: admin
    user:
      token: ${token}
contexts:
  - name: e2e
    context:
      cluster: e2e
      user: admin
      namespace: default
current-context: e2e
`;
}

// ---------------------------------------------------------------------------
// `npx tsx test/e2e/cluster/cluster.ts`: start a cluster and keep it up until Ctrl-C.

async function main(): Promise<void> {
  const c = await startCluster();
  process.stdout.write(
    `\nkube-apiserver: ${c.server}\nwork dir:       ${c.workDir}\n\n` +
      `  export KUBECONFIG=${c.kubeconfigPath}\n  kubectl get ns\n\nCtrl-C to stop.\n`,
  );
  await new Promise<void>((ok) => {
    process.once('SIGINT', ok);
    process.once('SIGTERM', ok);
  });
  process.stderr.write('[e2e-cluster] stopping…\n');
  await c.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}

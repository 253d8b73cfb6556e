/**
 * The real `gloo-guard serve` process over HTTPS: start-up on a free port, a review, certificate
 * rotation the way the kubelet does it, config reload, and a graceful SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCa, generateServing, type KeyPair } from '../../src/certs/generate.js';
import { certificateFingerprint } from '../../src/server/tls.js';
import { PRODUCTION_VALUES, releaseReview } from '../fixtures/admission/reviews.js';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  port: number;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function runCli(args: string[]): {
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const logs: Array<Record<string, unknown>> = [];
  let partial = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, logs, stderr: () => err, exited };
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 600_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startServer(args: string[] = []): Promise<Running> {
  const p = runCli(['--port', '0', '--host', '127.0.0.1', ...args]);
  const port = await until('the listening line', () => {
    if (p.child.exitCode !== null) throw new Error(`server exited: ${p.stderr()}`);
    const line = p.logs.find((l) => String(l.msg).includes('serving admission reviews'));
    return line ? Number(line.port) : undefined;
  });
  return { ...p, port };
}

function logLine(
  r: { logs: Array<Record<string, unknown>> },
  msg: string,
): Record<string, unknown> | undefined {
  return r.logs.find((l) => String(l.msg).startsWith(msg));
}

interface HttpsAnswer {
  status: number;
  body: string;
  reusedSocket: boolean;
}

function call(
  port: number,
  ca: string,
  method: string,
  path: string,
  body?: unknown,
  agent?: Agent,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        servername: 'localhost',
        port,
        method,
        path,
        ca,
        ...(agent ? { agent } : {}),
        headers: data
          ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, reusedSocket: req.reusedSocket }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
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

/** Completes a TLS handshake offering at most `maxVersion`; resolves with the protocol agreed. */
function handshake(port: number, ca: string, maxVersion: 'TLSv1.1' | 'TLSv1.2'): Promise<string> {
  return new Promise((resolve, reject) => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so a refusal can only come from the server.
    const opts = {
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca,
      minVersion: 'TLSv1' as const,
      maxVersion,
    };
    const socket = connect({ ...opts, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
      resolve(socket.getProtocol() ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** A mount directory laid out as the kubelet lays out a Secret volume: files behind a `..data` symlink. */
function kubeletMount(dir: string, files: Record<string, string>, generation: number): void {
  const target = `..2024_06_01_00_00_0${generation}.000000001`;
  mkdirSync(join(dir, target));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, target, name), text);
  symlinkSync(target, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data')); // the atomic swap
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch {
      // already linked from an earlier generation
    }
  }
}

function servingFor(ca: KeyPair): KeyPair {
  return generateServing(ca, { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 7 });
}

describe('gloo-guard serve, the real process', () => {
  it('when started without certificate files, then it serves a generated certificate whose CA bundle it printed', async () => {
    const s = await startServer();
    const caPath = String(logLine(s, 'no --tls-cert/--tls-key')?.caBundle);
    const ca = readFileSync(caPath, 'utf8');
    const denied = await call(s.port, ca, 'POST', '/validate', releaseReview({}, { uid: 'process-1' }));
    expect(denied.status).toBe(200);
    const response = (
      JSON.parse(denied.body) as { response: { uid: string; allowed: boolean; status: { message: string } } }
    ).response;
    expect(response).toMatchObject({ uid: 'process-1', allowed: false });
    expect(response.status.message).toContain('[no-bundled-redis]');
    const allowed = await call(s.port, ca, 'POST', '/validate', releaseReview({ values: PRODUCTION_VALUES }));
    expect(JSON.parse(allowed.body).response.allowed).toBe(true);
    expect((await call(s.port, ca, 'GET', '/readyz')).status).toBe(200);
    expect((await call(s.port, ca, 'GET', '/metrics')).body).toMatch(
      /gloo_guard_certificate_expiry_timestamp_seconds \d+/,
    );
    // Logs arrive through a pipe, maybe after the answers: wait for them.
    await until('two decision lines', () =>
      s.logs.filter((l) => l.msg === 'admission decision').length === 2 ? true : undefined,
    );
    await expect(handshake(s.port, ca, 'TLSv1.1')).rejects.toThrow(/alert protocol version/);
    await expect(handshake(s.port, ca, 'TLSv1.2')).resolves.toBe('TLSv1.2');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(existsSync(caPath)).toBe(false);
  });

  it('when the certificate files are rotated as the kubelet does, then the new one is served and open connections survive', async () => {
    const dir = tempDir('gloo-guard-tls-');
    const ca = generateCa('test-ca', 7);
    const [first, second] = [servingFor(ca), servingFor(ca)];
    kubeletMount(dir, { 'tls.crt': first.certPem, 'tls.key': first.keyPem }, 1);
    const s = await startServer(['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')]);
    expect(await peerFingerprint(s.port, ca.certPem)).toBe(certificateFingerprint(first.certPem));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await call(s.port, ca.certPem, 'GET', '/healthz', undefined, agent)).status).toBe(200);

    // A half-written pair (new certificate, old key) is refused and the old certificate stays.
    kubeletMount(dir, { 'tls.crt': second.certPem, 'tls.key': first.keyPem }, 2);
    await until('the ignored change', () => logLine(s, 'certificate change ignored'));
    expect(await peerFingerprint(s.port, ca.certPem)).toBe(certificateFingerprint(first.certPem));

    kubeletMount(dir, { 'tls.crt': second.certPem, 'tls.key': second.keyPem }, 3);
    const fp = certificateFingerprint(second.certPem);
    await until('the new certificate', async () =>
      (await peerFingerprint(s.port, ca.certPem)) === fp ? true : undefined,
    );
    const reloaded = await until('the reload line', () => logLine(s, 'serving certificate reloaded'));
    expect(reloaded.fingerprint).toBe(fp);

    const again = await call(s.port, ca.certPem, 'GET', '/healthz', undefined, agent);
    expect(again.status).toBe(200);
    expect(again.reusedSocket).toBe(true);
    agent.destroy();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('when the config file changes, then the new config applies, and an invalid one is ignored', async () => {
    const dir = tempDir('gloo-guard-config-');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'mode: enforce\n');
    const s = await startServer(['--config', file]);
    const caPath = String(logLine(s, 'no --tls-cert/--tls-key')?.caBundle);
    const ca = readFileSync(caPath, 'utf8');
    const decide = async () =>
      (
        JSON.parse((await call(s.port, ca, 'POST', '/validate', releaseReview())).body) as {
          response: { allowed: boolean };
        }
      ).response.allowed;
    expect(await decide()).toBe(false);

    writeFileSync(file, 'mode: audit\n');
    await until('the reload', () => logLine(s, 'config reloaded'));
    expect(await decide()).toBe(true);

    writeFileSync(file, 'mode: enforce\nonError: maybe\n');
    const ignored = await until('the ignored change', () => logLine(s, 'config change ignored'));
    expect(String(ignored.problems)).toContain('onError must be one of deny, allow');
    expect(await decide()).toBe(true);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(existsSync(caPath)).toBe(false);
  });

  it('when rules change, then a sound rule applies, a broken one is refused keeping the old, and a looping one errs without stalling', async () => {
    const dir = tempDir('gloo-guard-rules-');
    const file = join(dir, 'config.yaml');
    const rule = (expression: string): string =>
      [
        'rules:',
        '  - id: release-name-prefix',
        '    title: Release names start with gm-',
        '    severity: low',
        '    appliesTo: [release]',
        `    expression: ${JSON.stringify(expression)}`,
        '    message: the release name lacks the gm- prefix',
        '    remediation: name the release gm-<something>',
        '',
      ].join('\n');
    writeFileSync(file, rule("release.name.startsWith('gm-')"));
    const s = await startServer(['--config', file]);
    const ca = readFileSync(String(logLine(s, 'no --tls-cert/--tls-key')?.caBundle), 'utf8');
    const judge = async () =>
      (
        JSON.parse(
          (await call(s.port, ca, 'POST', '/validate', releaseReview({ values: PRODUCTION_VALUES }))).body,
        ) as {
          response: { allowed: boolean; status?: { message: string } };
        }
      ).response;
    const count = (msg: string): number => s.logs.filter((l) => String(l.msg).startsWith(msg)).length;
    expect((await judge()).status?.message).toContain(
      '[release-name-prefix] the release name lacks the gm- prefix (values) -> name the release gm-<something>',
    );

    writeFileSync(file, rule("release.name.startsWith('gm-') &&& true"));
    const ignored = await until('the refused rule', () => logLine(s, 'config change ignored'));
    expect(String(ignored.problems)).toMatch(
      /config\.yaml:6: rules\[0\] \(release-name-prefix\)\.expression: /,
    );
    expect((await judge()).allowed).toBe(false);

    // A million steps of a triple loop: the budget stops it, the answer is an error (onError: deny).
    const list = `[${Array.from({ length: 100 }, (_, i) => i).join(',')}]`;
    writeFileSync(file, rule(`${list}.all(a, ${list}.all(b, ${list}.all(c, a + b + c >= 0)))`));
    await until('the reload', () => (count('config reloaded') >= 1 ? true : undefined));
    const looped = await judge();
    expect(looped.allowed).toBe(false);
    expect(looped.status?.message).toContain('cost budget of 100000 exceeded');
    expect((await call(s.port, ca, 'GET', '/healthz')).status).toBe(200);
    expect((await judge()).status?.message).toContain('cost budget');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('when SIGTERM arrives during a review, then that review is answered, new connections are refused, and it exits 0', async () => {
    const s = await startServer();
    const caPath = String(logLine(s, 'no --tls-cert/--tls-key')?.caBundle);
    const ca = readFileSync(caPath, 'utf8');
    const body = Buffer.from(JSON.stringify(releaseReview({}, { uid: 'in-flight' })));
    // An idle kept-alive connection, as the API server holds them, must not hold the shutdown up.
    const idle = new Agent({ keepAlive: true });
    expect((await call(s.port, ca, 'GET', '/healthz', undefined, idle)).status).toBe(200);
    const socket = connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca });
    await new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
    let answer = '';
    socket.on('data', (b: Buffer) => (answer += b.toString()));
    // Expect: 100-continue makes the server say when it holds the request: "100 Continue" is written
    // as the request is handed to the app, so the signal below lands while the review is in flight.
    socket.write(
      `POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await until('100 Continue', () =>
      answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n') ? true : undefined,
    );
    answer = '';
    socket.write(body.subarray(0, 1000));

    s.child.kill('SIGTERM');
    const shutdown = await until('the shutdown line', () => logLine(s, 'shutting down'));
    expect(shutdown.inFlight).toBe(1);
    await expect(peerFingerprint(s.port, ca)).rejects.toThrow(/ECONNREFUSED/);
    socket.write(body.subarray(1000));
    await until('the answer', () => (answer.includes('"uid":"in-flight"') ? true : undefined));
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(await s.exited).toBe(0);
    expect(logLine(s, 'stopped')).toBeDefined();
    idle.destroy();
    expect(existsSync(caPath)).toBe(false);
  });

  it('when the port is taken, then it logs why and exits 1', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const p = runCli(['--port', String(port), '--host', '127.0.0.1']);
    expect(await p.exited).toBe(1);
    expect(logLine(p, 'cannot listen')).toMatchObject({ code: 'EADDRINUSE', port });
    await new Promise((resolve) => blocker.close(resolve));
  });

  it.each([
    [['--tls-cert', 'only-a-cert.pem'], /--tls-cert and --tls-key go together/],
    [['--port', 'eighty'], /--port must be a number/],
    [['--log-level', 'verbose'], /--log-level must be one of debug, info, warn, error/],
    [['--config', '/nonexistent/gloo-guard.yaml'], /cannot read config file \(ENOENT\)/],
    [
      ['--tls-cert', '/nonexistent/tls.crt', '--tls-key', '/nonexistent/tls.key'],
      /cannot read the certificate \(ENOENT\)/,
    ],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('when started with %j, then it exits 2 with one line saying why', async (args, message) => {
    const p = runCli(args);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(message);
    expect(p.stderr()).not.toMatch(/\n\s+at /);
  });
});

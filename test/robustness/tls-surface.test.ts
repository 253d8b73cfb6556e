/**
 * The attack surface of the real `gloo-guard serve` process: TLS 1.2 and later only, no plain-HTTP
 * answer on its port and no other listener, 404 for every path but the four it serves, 405 for every
 * other method, and no stack trace or source path in any answer, including to malformed HTTP.
 *
 * Extends test/integration/serve-process.test.ts (TLS 1.1 refused, 1.2 agreed) and
 * test/integration/server-malformed.test.ts (four 405s and one 404 through supertest).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/log.js';
import { releaseReview } from '../fixtures/admission/reviews.js';
import {
  figure,
  internalsIn,
  SEED,
  send,
  serveApp,
  startServe,
  stopAllProcesses,
  stopServe,
  type ServeProcess,
  type Target,
} from './support.js';

let s: ServeProcess;
let target: Target;

beforeAll(async () => {
  s = await startServe();
  target = { port: s.port, ca: s.ca, agent: new Agent({ keepAlive: true, maxSockets: 4 }) };
});

afterAll(async () => {
  target.agent?.destroy();
  if (s) await stopServe(s);
  await stopAllProcesses();
});

/** Completes a handshake offering only `version`; resolves with the protocol, rejects with the alert. */
function handshake(version: SecureVersion): Promise<string> {
  return new Promise((resolve, reject) => {
    // SECLEVEL=0 lets this client offer TLS 1.0 and 1.1 at all, so a refusal can only be the server's.
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port: s.port,
        servername: 'localhost',
        ca: s.ca,
        minVersion: version,
        maxVersion: version,
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
      () => {
        resolve(socket.getProtocol() ?? '');
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

/** Writes raw bytes inside TLS and collects the answer until the server closes or 2 s pass. */
function rawTls(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = tlsConnect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: s.ca }, () => {
      socket.write(bytes);
    });
    socket.setTimeout(2000, () => socket.end());
    socket.on('data', (b: Buffer) => (answer += b.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve(answer) : reject(err),
    );
  });
}

/** The TCP sockets in LISTEN state that this process holds, as `address:port`. */
function listeners(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return m ? [m[1]!] : [];
      } catch {
        return [];
      }
    }),
  );
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      const [local, state, inode] = [f[1]!, f[3], f[9]!];
      if (state !== '0A' || !inodes.has(inode)) continue;
      const [hexAddr, hexPort] = local.split(':') as [string, string];
      const addr =
        hexAddr.length === 8
          ? hexAddr
              .match(/../g)!
              .reverse()
              .map((h) => parseInt(h, 16))
              .join('.')
          : `[${hexAddr}]`;
      out.push(`${addr}:${parseInt(hexPort, 16)}`);
    }
  }
  return out;
}

describe('TLS and listeners', { timeout: 600_000 }, () => {
  it('when a client offers TLS 1.0 or 1.1, then the handshake fails; 1.2 and 1.3 are agreed', async () => {
    await expect(handshake('TLSv1')).rejects.toThrow(
      /protocol version|no protocols available|wrong version/i,
    );
    await expect(handshake('TLSv1.1')).rejects.toThrow(
      /protocol version|no protocols available|wrong version/i,
    );
    await expect(handshake('TLSv1.2')).resolves.toBe('TLSv1.2');
    await expect(handshake('TLSv1.3')).resolves.toBe('TLSv1.3');
  });

  it('when plain HTTP is sent to the port, then no HTTP answer comes back', async () => {
    const viaHttp = new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: s.port, path: '/healthz', timeout: 3000 }, (res) =>
        resolve(`HTTP ${res.statusCode}`),
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    expect(await viaHttp).not.toMatch(/^HTTP/);
    const raw = await new Promise<string>((resolve) => {
      let got = '';
      const socket = netConnect(s.port, '127.0.0.1', () =>
        socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      );
      socket.setTimeout(3000, () => socket.destroy());
      socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => undefined);
    });
    expect(raw).not.toMatch(/HTTP\/1\.[01] \d{3}/);
  });

  it('when the process is running, then its only listening socket is the HTTPS port on the address asked for', () => {
    expect(listeners(s.pid)).toEqual([`127.0.0.1:${s.port}`]);
  });
});

describe('routes and methods', { timeout: 600_000 }, () => {
  const KNOWN: Array<[string, string]> = [
    ['/validate', 'POST'],
    ['/healthz', 'GET'],
    ['/readyz', 'GET'],
    ['/metrics', 'GET'],
  ];
  const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];

  it('when any other method is used on a served path, then 405 with Allow, as a Status without internals', async () => {
    let checked = 0;
    for (const [path, allowed] of KNOWN) {
      for (const method of METHODS.filter((m) => m !== allowed)) {
        const a = await send(target, method, path);
        expect([method, path, a.status]).toEqual([method, path, 405]);
        expect(a.headers.allow).toBe(allowed);
        expect(JSON.parse(a.text)).toMatchObject({ kind: 'Status', code: 405, reason: 'MethodNotAllowed' });
        expect(internalsIn(a.text)).toBeUndefined();
        checked++;
      }
    }
    figure('surface: 405s', { checked });
  });

  it('when any other path is asked, with any method, then 404 as a Status without internals', async () => {
    const fixed = [
      '/',
      '/mutate',
      '/validate/extra',
      '/VALIDATE',
      '/metrics/',
      '/healthz/../metrics',
      '/%2e%2e/etc/passwd',
      '/%',
      '/%E0%A4%A',
      '/..%2f',
      '/debug/pprof',
      '/.env',
      `/${'a'.repeat(8000)}`,
    ];
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,20}$/);
    const paths = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
    let checked = 0;
    const check = async (method: string, path: string): Promise<void> => {
      if (KNOWN.some(([p]) => p === path)) return;
      const a = await send(target, method, path);
      checked++;
      expect([method, path, a.status]).toEqual([method, path, 404]);
      expect(JSON.parse(a.text)).toMatchObject({ kind: 'Status', code: 404 });
      expect(internalsIn(a.text)).toBeUndefined();
    };
    for (const path of fixed) await check('GET', path);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...METHODS), paths, async (method, path) => check(method, path)),
      { numRuns: 200, seed: SEED },
    );
    figure('surface: 404s', { checked, seed: SEED });
  });

  it('when malformed HTTP arrives inside TLS, then the answer is a bare 4xx without internals, and serving goes on', async () => {
    const body = JSON.stringify(releaseReview());
    const cases: Array<[string, string]> = [
      ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
      ['a header with a control character', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n'],
      ['32 KiB of headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`],
      [
        'two different Content-Lengths',
        `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}`,
      ],
      [
        'Content-Length with Transfer-Encoding (smuggling)',
        `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n`,
      ],
      [
        'a broken chunk size',
        `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
      ],
      [
        'a body shorter than its Content-Length, then close',
        `POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 10}\r\n\r\n${body}`,
      ],
      [
        'an absolute URI for another host',
        'GET http://evil.example/healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n',
      ],
    ];
    for (const [what, bytes] of cases) {
      const answer = await rawTls(bytes);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
      if (status !== undefined && what !== 'an absolute URI for another host')
        expect([what, Number(status) >= 400]).toEqual([what, true]);
      expect([what, internalsIn(answer)]).toEqual([what, undefined]);
    }
    expect((await send(target, 'GET', '/healthz')).status).toBe(200);
    expect(s.stderr()).toBe('');
    figure('surface: malformed HTTP', { cases: cases.length });
  });

  it('when a handler fails unexpectedly, then the 500 says only "internal error" and the log keeps the frames, not the message', async () => {
    let logs = '';
    const app = createApp({
      config: () => {
        throw new Error(`boom with a secret s3cr3t-in-message at ${import.meta.filename}:1`);
      },
      logger: createLogger({ write: (t: string) => void (logs += t) }),
    });
    const local = await serveApp(app);
    try {
      const a = await send(
        { port: local.port, ca: local.ca },
        'POST',
        '/validate',
        JSON.stringify(releaseReview()),
      );
      expect(a.status).toBe(500);
      expect(JSON.parse(a.text)).toMatchObject({
        kind: 'Status',
        code: 500,
        message: 'internal error; see the gloo-guard logs',
      });
      expect(internalsIn(a.text)).toBeUndefined();
      expect(logs).toContain('internal error');
      expect(logs).not.toContain('s3cr3t-in-message');
    } finally {
      await local.close();
    }
  });
});

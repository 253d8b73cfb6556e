// Kubeconfig: the kubeconfig files and the pod's service account read as kubectl and client-go read
// them, driven through KubeRest against local HTTPS servers that check what arrives: the CA that
// verifies them, the client certificate, the token (and when a token file is read again), and an exec
// plugin's credential through client-node, which only such a context loads.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateCa, generateServing, type KeyPair } from '../../src/certs/generate.js';
import { Kubeconfig, TOKEN_FILE_PERIOD_MS } from '../../src/k8s/kubeconfig.js';
import { KubeApiError, KubeConfigError, KubeRest } from '../../src/k8s/rest.js';

/** What one request brought: its Authorization header and the client certificate's CN. */
interface Seen {
  authorization?: string;
  clientCn?: string;
  impersonate?: string;
}

const servers: Array<{ close(cb: () => void): unknown }> = [];
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

function record(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    seen.push({
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(peer?.subject?.CN ? { clientCn: String(peer.subject.CN) } : {}),
      ...(req.headers['impersonate-user'] ? { impersonate: String(req.headers['impersonate-user']) } : {}),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"APIVersions"}');
  };
}

/** An HTTPS server with a certificate for `names` signed by `ca`; with `clientCa`, it asks for (and checks) a client certificate. */
async function httpsServer(ca: KeyPair, names: string[], seen: Seen[], clientCa?: KeyPair): Promise<string> {
  const serving = generateServing(ca, { dnsNames: names, ipAddresses: ['127.0.0.1'], days: 1 });
  const server: Server = createHttpsServer(
    {
      cert: serving.certPem,
      key: serving.keyPem,
      ...(clientCa ? { ca: clientCa.certPem, requestCert: true, rejectUnauthorized: true } : {}),
    },
    record(seen),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'gg-kubeconfig-'));
}

/** A kubeconfig file with one context `ctx` on `cluster` as `user`. */
function kubeconfigFile(cluster: Record<string, unknown>, user: Record<string, unknown>, at = dir()): string {
  const file = join(at, 'config');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function get(access: ReturnType<Kubeconfig['access']>): Promise<number> {
  return (await new KubeRest(access, 5_000).call('GET', '/api')).status;
}

let ca: KeyPair;
let clientCa: KeyPair;
beforeAll(() => {
  ca = generateCa('kubeconfig-test-ca', 1);
  clientCa = generateCa('kubeconfig-test-client', 1);
});

describe('a kubeconfig with static credentials, read without client-node', () => {
  it('when it gives CA data and a token, then the server is verified by that CA and receives the token', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen);
    const kc = Kubeconfig.load(
      kubeconfigFile(
        { server: `${server}/`, 'certificate-authority-data': b64(ca.certPem) },
        { token: 'tok-1', as: 'jane' },
      ),
    );
    const access = kc.access();
    expect(access.server).toBe(server);
    expect(await get(access)).toBe(200);
    expect(seen).toEqual([{ authorization: 'Bearer tok-1', impersonate: 'jane' }]);
  });

  it('when the CA is another one, then the call fails naming the server, and with insecure-skip-tls-verify it passes', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen);
    const wrong = Kubeconfig.load(
      kubeconfigFile({ server, 'certificate-authority-data': b64(clientCa.certPem) }, { token: 't' }),
    ).access();
    await expect(get(wrong)).rejects.toThrow(new RegExp(`GET ${server}/api: .*certificate`));
    const insecure = Kubeconfig.load(
      kubeconfigFile({ server, 'insecure-skip-tls-verify': true }, { token: 't' }),
    );
    expect(await get(insecure.access())).toBe(200);
    expect(seen).toEqual([{ authorization: 'Bearer t' }]);
  });

  it('when the certificate is for another name, then tls-server-name makes it match', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['api.internal'], seen);
    // 127.0.0.1 is in the certificate too: ask for a name it does not hold to see the check at work.
    const named = (name: string) =>
      Kubeconfig.load(
        kubeconfigFile(
          { server, 'certificate-authority-data': b64(ca.certPem), 'tls-server-name': name },
          {},
        ),
      ).access();
    await expect(get(named('other.internal'))).rejects.toThrow(/other\.internal/);
    expect(await get(named('api.internal'))).toBe(200);
  });

  it('when the client certificate and key are files named relative to the kubeconfig, then the server receives that certificate', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen, clientCa);
    const at = dir();
    mkdirSync(join(at, 'pki'));
    writeFileSync(join(at, 'pki', 'ca.crt'), ca.certPem);
    writeFileSync(join(at, 'pki', 'me.crt'), clientCa.certPem);
    writeFileSync(join(at, 'pki', 'me.key'), clientCa.keyPem);
    const kc = Kubeconfig.load(
      kubeconfigFile(
        { server, 'certificate-authority': 'pki/ca.crt' },
        { 'client-certificate': 'pki/me.crt', 'client-key': 'pki/me.key' },
        at,
      ),
    );
    expect(await get(kc.access())).toBe(200);
    expect(seen).toEqual([{ clientCn: 'kubeconfig-test-client' }]);
  });

  it('when a token file is rotated, then the new token is sent once a minute has passed, not before', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen);
    const at = dir();
    writeFileSync(join(at, 'token'), 'old-token\n');
    let now = 1_000_000;
    const kc = Kubeconfig.load(
      kubeconfigFile({ server, 'certificate-authority-data': b64(ca.certPem) }, { tokenFile: 'token' }, at),
      { now: () => now },
    );
    const access = kc.access();
    await get(access);
    writeFileSync(join(at, 'token'), 'new-token\n');
    now += TOKEN_FILE_PERIOD_MS - 1;
    await get(access);
    now += 2;
    await get(access);
    expect(seen.map((s) => s.authorization)).toEqual([
      'Bearer old-token',
      'Bearer old-token',
      'Bearer new-token',
    ]);
  });

  it('when the server is http:// without insecure-skip-tls-verify, then the call fails saying what to set', async () => {
    const access = Kubeconfig.load(kubeconfigFile({ server: 'http://127.0.0.1:1' }, { token: 't' })).access();
    await expect(get(access)).rejects.toThrow(
      new KubeApiError(
        "cannot use the kubeconfig's settings for http://127.0.0.1:1: an http:// server needs insecure-skip-tls-verify: true in its cluster entry",
      ),
    );
  });
});

describe('where the kubeconfig comes from', () => {
  it('when $KUBECONFIG lists two files, then both contexts are known and the first file wins a name and the current-context', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen);
    const caData = b64(ca.certPem);
    const first = kubeconfigFile({ server, 'certificate-authority-data': caData }, { token: 'first' });
    const secondFile = join(dir(), 'config');
    writeFileSync(
      secondFile,
      stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [
          { name: 'u', user: { token: 'second' } },
          { name: 'w', user: { token: 'w-token' } },
        ],
        contexts: [
          { name: 'ctx', context: { cluster: 'c', user: 'w' } },
          { name: 'workload', context: { cluster: 'c', user: 'w' } },
        ],
        'current-context': 'workload',
      }),
    );
    const kc = Kubeconfig.load(undefined, { env: { KUBECONFIG: [first, '', secondFile].join(delimiter) } });
    expect(kc.contexts).toEqual(['ctx', 'workload']);
    expect(kc.currentContext).toBe('ctx');
    await get(kc.access());
    await get(kc.access('workload'));
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer first', 'Bearer w-token']);
  });

  it('when there is no kubeconfig, then the pod service account is read: its CA, its token and the service host', async () => {
    const seen: Seen[] = [];
    const server = await httpsServer(ca, ['localhost'], seen);
    const sa = dir();
    writeFileSync(join(sa, 'ca.crt'), ca.certPem);
    writeFileSync(join(sa, 'token'), 'sa-token');
    const { port } = new URL(server);
    const where = {
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      home: dir(),
      serviceAccountDir: sa,
    };
    const access = Kubeconfig.load(undefined, where).access();
    expect(access.server).toBe(server);
    expect(await get(access)).toBe(200);
    expect(seen).toEqual([{ authorization: 'Bearer sa-token' }]);
    const v6 = Kubeconfig.load(undefined, {
      ...where,
      env: { ...where.env, KUBERNETES_SERVICE_HOST: 'fd00::1' },
    });
    expect(v6.access().server).toBe(`https://[fd00::1]:${port}`);
  });

  it('when ~/.kube/config exists, then it is read before the service account', () => {
    const home = dir();
    mkdirSync(join(home, '.kube'));
    kubeconfigFile({ server: 'https://laptop.example:6443' }, {}, join(home, '.kube'));
    const sa = dir();
    writeFileSync(join(sa, 'token'), 'sa-token');
    const kc = Kubeconfig.load(undefined, {
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      home,
      serviceAccountDir: sa,
    });
    expect(kc.access().server).toBe('https://laptop.example:6443');
  });

  it('when nothing is there, then the error says where it looked and what to pass', () => {
    expect(() => Kubeconfig.load(undefined, { env: {}, home: dir(), serviceAccountDir: dir() })).toThrow(
      KubeConfigError,
    );
    expect(() =>
      Kubeconfig.load(undefined, { env: {}, home: dir(), serviceAccountDir: '/nonexistent' }),
    ).toThrow(
      /\$KUBECONFIG is not set, ~\/\.kube\/config does not exist, and this is not a pod .*set KUBECONFIG \(audit: --kubeconfig FILE\)/,
    );
  });
});

describe('kubeconfigs that cannot be used', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an empty file', '', /it is empty or not a kubeconfig/],
    ['a list', '- a\n- b\n', /it is empty or not a kubeconfig/],
    [
      'YAML that does not parse',
      'users:\n- name: u\n  user:\n    token: secret-1\n   bad: secret-2\n',
      /it is not valid YAML at line \d+, column \d+/,
    ],
    [
      'a cluster without a server',
      'clusters:\n- name: c\n  cluster: {}\n',
      /clusters\[0\]\.cluster\.server is missing/,
    ],
    [
      'a context without a cluster',
      'contexts:\n- name: x\n  context: {user: u}\n',
      /contexts\[0\]\.context\.cluster is missing/,
    ],
    ['an entry without a name', 'users:\n- user: {token: secret-1}\n', /users\[0\]\.name is missing/],
    ['clusters that are not a list', 'clusters: {c: {}}\n', /clusters is not a list/],
  ];
  it.each(cases)(
    'when it is %s, then loading fails naming the file and the problem, never quoting it',
    (_, text, message) => {
      const file = join(dir(), 'config');
      writeFileSync(file, text);
      let err: unknown;
      try {
        Kubeconfig.load(file);
      } catch (e: unknown) {
        err = e;
      }
      expect(err).toBeInstanceOf(KubeConfigError);
      expect((err as Error).message).toMatch(new RegExp(`^cannot load kubeconfig ${file}: `));
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toMatch(/secret-/);
    },
  );

  it('when the file does not exist, then the error names it', () => {
    expect(() => Kubeconfig.load('/nonexistent/config')).toThrow(
      /^cannot load kubeconfig \/nonexistent\/config: ENOENT: no such file or directory/,
    );
  });

  it('when a context is missing or names a cluster that is not there, then access fails naming them (an audit reports it for that context)', () => {
    const file = join(dir(), 'config');
    writeFileSync(file, stringify({ contexts: [{ name: 'x', context: { cluster: 'gone' } }] }));
    const kc = Kubeconfig.load(file);
    expect(() => kc.access()).toThrow(new KubeApiError(`the kubeconfig ${file} has no current-context`));
    expect(() => kc.access('y')).toThrow(new KubeApiError(`no context "y" in the kubeconfig ${file}`));
    expect(() => kc.access('x')).toThrow(
      new KubeApiError('context "x" names cluster "gone", which the kubeconfig does not have'),
    );
  });
});

describe('a context with credentials only client-node reads', () => {
  it('when the user has an exec plugin, then client-node runs it and the server receives its token', async () => {
    const seen: Seen[] = [];
    const server = createHttpServer(record(seen));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const credential = {
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'from-the-plugin' },
    };
    const kc = Kubeconfig.load(
      kubeconfigFile(
        {
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          'insecure-skip-tls-verify': true,
        },
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: ['-e', `process.stdout.write(${JSON.stringify(JSON.stringify(credential))})`],
            interactiveMode: 'Never',
          },
        },
      ),
    );
    expect(await get(kc.access())).toBe(200);
    expect(seen).toEqual([{ authorization: 'Bearer from-the-plugin' }]);
  });
});

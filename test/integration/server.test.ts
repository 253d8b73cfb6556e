import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/types.js';
import { createApp } from '../../src/server/app.js';
import { createMetrics } from '../../src/server/metrics.js';
import {
  DEFAULT_VALUES,
  deploymentObject,
  namespaceObject,
  objectReview,
  PRODUCTION_VALUES,
  rawReleaseSecret,
  releaseReview,
} from '../fixtures/admission/reviews.js';

function configWith(over: Partial<Config> = {}): Config {
  return { ...defaultConfig(), ...over };
}

function appWith(over: Partial<Config> = {}) {
  const config = configWith(over);
  return createApp({ config: () => config });
}

async function validate(body: unknown, over: Partial<Config> = {}) {
  const res = await request(appWith(over))
    .post('/validate')
    .send(body as object);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body.apiVersion).toBe('admission.k8s.io/v1');
  expect(res.body.kind).toBe('AdmissionReview');
  return res.body.response as {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
  };
}

const runes = (s: string) => Array.from(s).length;

describe('POST /validate: Helm release Secrets', () => {
  it('when a defaults install of gloo-mesh-enterprise is created, then it is refused with every violation, its path and fix', async () => {
    const body = releaseReview({ values: DEFAULT_VALUES }, { uid: 'uid-defaults' });
    const r = await validate(body);
    expect(r.uid).toBe('uid-defaults');
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(403);
    expect(r.status?.reason).toBe('Forbidden');
    const lines = r.status!.message.split('\n');
    expect(lines[0]).toBe(
      'gloo-guard: 3 violations in release gloo-mesh/gloo-mesh-enterprise (chart gloo-mesh-enterprise 2.0.9 revision 1):',
    );
    expect(lines).toContain(
      '[no-bundled-redis] the bundled Redis is enabled (glooMeshRedis.enabled) -> set glooMeshRedis.enabled: false and use your own Redis',
    );
    // One finding: the generated self-signed CA (disableCa: false alone is the vendor's custom-CA option).
    expect(lines.filter((l) => l.startsWith('[no-default-relay-ca] '))).toHaveLength(1);
    expect(
      lines.some((l) => l.startsWith('[no-bundled-prometheus] ') && l.includes('(prometheus.enabled) -> ')),
    ).toBe(true);
    const last = lines.at(-1)!;
    expect(last).toContain('docs/policies.md#no-default-relay-ca');
    expect(last).toContain('docs/policies.md#no-bundled-redis');
    expect(last).toContain('`gloo-guard policies`');
    // Only deny-level violations are reasons for the refusal; warn-level ones are warnings.
    expect(r.status!.message).not.toContain('[ui-oidc-auth]');
  });

  it('when a refusal is printed by Helm, then its first line reads as one sentence after "denied the request:"', async () => {
    const r = await validate(releaseReview({ revision: 7 }));
    const helm = `Error: UPGRADE FAILED: create: failed to create: admission webhook "gloo-guard.gloo-guard.svc" denied the request: ${r.status!.message}`;
    const [first, ...rest] = helm.split('\n');
    expect(first).toMatch(
      /denied the request: gloo-guard: \d+ violations in release gloo-mesh\/gloo-mesh-enterprise \(chart gloo-mesh-enterprise 2\.0\.9 revision 7\):$/,
    );
    for (const line of rest.slice(0, -1)) expect(line).toMatch(/^\[[a-z0-9-]+\] .+ \(.+\) -> .+$/);
  });

  it('when a defaults install is refused, then warn-level violations come as warnings of at most 256 runes', async () => {
    const r = await validate(releaseReview());
    const warnings = r.warnings ?? [];
    expect(warnings.map((w) => w.slice(0, w.indexOf(']') + 1))).toEqual([
      '[ui-oidc-auth]',
      '[mgmt-server-internal-lb]',
    ]);
    for (const w of warnings) {
      expect(runes(w)).toBeLessThanOrEqual(256);
      expect(w).not.toMatch(/^Warning:/);
      expect(w).not.toMatch(/[\n\r]/);
    }
    // The internal-LB warning fits whole: its fix, what the user acts on, is never cut (issue 16).
    expect(warnings[1]).toMatch(
      / -> set glooMeshMgmtServer\.serviceType: ClusterIP, or add .* under \S+\.metadata\.annotations$/,
    );
    expect(r.auditAnnotations).toEqual({
      violations: '5',
      policies:
        'no-default-relay-ca=deny,no-bundled-redis=deny,no-bundled-prometheus=deny,ui-oidc-auth=warn,mgmt-server-internal-lb=warn',
    });
  });

  it('when a production-ready release is created, then it is allowed with no warnings', async () => {
    const r = await validate(releaseReview({ values: PRODUCTION_VALUES }));
    expect(r).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('when an upgrade (pending-upgrade, revision 3) is created, then it is judged and the message names revision 3', async () => {
    const r = await validate(releaseReview({ revision: 3, status: 'pending-upgrade' }));
    expect(r.allowed).toBe(false);
    expect(r.status!.message.split('\n')[0]).toContain('revision 3');
  });

  it('when a rollback record (pending-rollback) is created, then it is judged like an upgrade', async () => {
    const r = await validate(releaseReview({ revision: 4, status: 'pending-rollback' }));
    expect(r.allowed).toBe(false);
  });

  it.each(['UPDATE', 'DELETE'] as const)(
    'when a release Secret gets %s, then it is always allowed, even with violations',
    async (operation) => {
      const r = await validate(releaseReview({ values: { insecure: true } }, { operation }));
      expect(r).toEqual({ uid: expect.any(String), allowed: true });
    },
  );

  it('when an UPDATE carries an unreadable release, then it is still allowed: it is never decoded', async () => {
    const r = await validate(objectReview(rawReleaseSecret('!!! not base64 !!!'), { operation: 'UPDATE' }));
    expect(r.allowed).toBe(true);
  });

  it('when a release of another chart is created, then it is allowed untouched', async () => {
    const r = await validate(
      releaseReview({
        chart: 'redis',
        chartVersion: '17.3.2',
        values: { insecure: true, auth: { enabled: false } },
      }),
    );
    expect(r).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('when a Gloo Mesh 1.x release is created, then it is not judged (other keys)', async () => {
    const r = await validate(releaseReview({ chartVersion: '1.2.3' }));
    expect(r.allowed).toBe(true);
  });

  it('when a dry-run request arrives, then it is judged exactly like a real one', async () => {
    const real = await validate(releaseReview({}, { uid: 'a' }));
    const dry = await validate(releaseReview({}, { uid: 'a', dryRun: true }));
    expect(dry).toEqual(real);
    expect(dry.allowed).toBe(false);
  });

  it('when a release record with status deployed is created (a restore from backup), then it is allowed', async () => {
    const r = await validate(releaseReview({ status: 'deployed' }));
    expect(r.allowed).toBe(true);
  });

  it('when the release holds an inline OIDC client secret, then the refusal names the path and never the value', async () => {
    const planted = 'oidc-client-secret-4f1c9e';
    const values = {
      ...PRODUCTION_VALUES,
      glooMeshUi: { auth: { enabled: true, backend: 'oidc', oidc: { clientSecret: planted } } },
    };
    const res = await request(appWith()).post('/validate').send(releaseReview({ values }));
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.message).toContain('[no-inline-oidc-secret]');
    expect(res.text).not.toContain(planted);
  });
});

describe('POST /validate: modes, actions and exceptions from config', () => {
  it('when mode is audit, then nothing is refused and every violation is a warning', async () => {
    const r = await validate(releaseReview(), { mode: 'audit' });
    expect(r.allowed).toBe(true);
    expect(r.status).toBeUndefined();
    expect(r.warnings).toHaveLength(5);
    expect(r.warnings!.filter((w) => w.startsWith('[no-default-relay-ca] '))).toHaveLength(1);
    expect(r.auditAnnotations).toMatchObject({ mode: 'audit', violations: '5' });
    expect(r.auditAnnotations!.policies).toContain('no-bundled-redis=warn');
  });

  it('when a policy is set to warn, then its violation is a warning and no longer a reason to refuse', async () => {
    const policies = { 'no-bundled-redis': { action: 'warn' as const } };
    const r = await validate(releaseReview(), { policies });
    expect(r.allowed).toBe(false);
    expect(r.status!.message).not.toContain('[no-bundled-redis]');
    expect(r.warnings!.some((w) => w.startsWith('[no-bundled-redis] '))).toBe(true);
  });

  it('when an exception covers every denied policy for the release, then it is allowed', async () => {
    const exceptions = ['no-default-relay-ca', 'no-bundled-redis', 'no-bundled-prometheus'].map((policy) => ({
      policy,
      namespace: 'gloo-mesh',
      name: 'gloo-mesh-enterprise',
      reason: 'staging cluster',
    }));
    const r = await validate(releaseReview(), { exceptions });
    expect(r.allowed).toBe(true);
  });
});

describe('POST /validate: Namespaces, Deployments and other kinds', () => {
  const injected = namespaceObject('gloo-mesh', { 'istio-injection': 'enabled' });

  it.each(['CREATE', 'UPDATE'] as const)(
    'when the gloo-mesh Namespace is labelled for injection on %s, then it is refused',
    async (operation) => {
      const r = await validate(objectReview(injected, { operation }));
      expect(r.allowed).toBe(false);
      expect(r.status!.message.split('\n')[0]).toBe('gloo-guard: 1 violation in Namespace gloo-mesh:');
      expect(r.status!.message).toContain('[no-injection-in-gloo-mesh]');
    },
  );

  it('when that Namespace is deleted, then it is allowed', async () => {
    expect((await validate(objectReview(injected, { operation: 'DELETE' }))).allowed).toBe(true);
  });

  it('when a management server Deployment runs with --insecure, then it is refused with the argument path', async () => {
    const r = await validate(
      objectReview(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh', ['--insecure'])),
    );
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('(spec.template.spec.containers[0].args[0])');
  });

  it('when only its status subresource is updated, then it is allowed: controllers must never be blocked', async () => {
    const body = objectReview(deploymentObject('gloo-mesh-mgmt-server', 'gloo-mesh', ['--insecure']), {
      operation: 'UPDATE',
      subResource: 'status',
    });
    expect((await validate(body)).allowed).toBe(true);
  });

  it('when an ordinary Secret or a ConfigMap is created, then it is allowed', async () => {
    const opaque = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 's', namespace: 'gloo-mesh' },
      data: { a: 'Yg==' },
    };
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'gloo-mesh' },
      data: { a: 'b' },
    };
    expect((await validate(objectReview(opaque))).allowed).toBe(true);
    expect((await validate(objectReview(cm))).allowed).toBe(true);
  });
});

describe('POST /validate: objects that cannot be read follow onError', () => {
  const corrupt = objectReview(rawReleaseSecret('this is not base64!', 'broken'));

  it('when a release is corrupt and onError is deny (the default), then it is refused with the problem named', async () => {
    const r = await validate(corrupt);
    expect(r.allowed).toBe(false);
    expect(r.status!.code).toBe(403);
    const lines = r.status!.message.split('\n');
    expect(lines[0]).toBe(
      'gloo-guard could not read Secret gloo-mesh/sh.helm.release.v1.broken.v1 (Helm release broken, revision 1), so it refused it (onError: deny)',
    );
    expect(lines[1]).toContain('release payload is not valid base64');
    expect(lines[2]).toContain('onError: allow');
    expect(r.auditAnnotations).toEqual({ error: 'input' });
  });

  it.each([
    [
      'gzip magic, then garbage',
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), Buffer.from('garbage')]),
      'not valid gzip',
    ],
    ['neither gzip nor JSON', Buffer.from('plain text, not a release'), 'neither gzip nor valid JSON'],
    ['JSON without a chart', Buffer.from('{"name":"x"}'), 'no chart.metadata.name'],
  ])('when a release holds %s, then the refusal names that problem', async (_what, payload, problem) => {
    const r = await validate(objectReview(rawReleaseSecret(payload.toString('base64'))));
    expect(r.allowed).toBe(false);
    expect(r.status!.message.split('\n')[1]).toContain(problem);
  });

  it('when onError is allow, then it is allowed with a warning that names the problem', async () => {
    const r = await validate(corrupt, { onError: 'allow' });
    expect(r.allowed).toBe(true);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings![0]).toMatch(
      /^gloo-guard could not read Secret .* and allowed it \(onError: allow\): .*not valid base64/,
    );
  });

  it('when mode is audit, then even onError: deny allows it, with a warning', async () => {
    const r = await validate(corrupt, { mode: 'audit' });
    expect(r.allowed).toBe(true);
    expect(r.warnings![0]).toContain('(mode: audit)');
  });

  it('when a CREATE carries no object, then that is an input error, not a crash', async () => {
    const body = releaseReview();
    (body.request as Record<string, unknown>).object = null;
    const r = await validate(body);
    expect(r.allowed).toBe(false);
    expect(r.status!.message).toContain('not a Kubernetes object');
  });
});

describe('health, readiness and metrics', () => {
  it('when /healthz is asked, then it answers ok', async () => {
    const res = await request(appWith()).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok\n');
  });

  it('when the server is not ready, then /readyz says why with 503', async () => {
    const app = createApp({
      config: () => defaultConfig(),
      readiness: () => ({ ready: false, reasons: ['shutting down'] }),
    });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.message).toBe('not ready: shutting down');
    expect((await request(appWith()).get('/readyz')).status).toBe(200);
  });

  it('when reviews were answered, then /metrics counts them by kind, operation and decision, and violations by policy', async () => {
    const metrics = createMetrics();
    const app = createApp({ config: () => defaultConfig(), metrics });
    await request(app).post('/validate').send(releaseReview());
    await request(app)
      .post('/validate')
      .send(releaseReview({}, { operation: 'UPDATE' }));
    await request(app)
      .post('/validate')
      .send(objectReview(rawReleaseSecret('%%%')));
    await request(app).post('/validate').send({ nope: true });
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain(
      'gloo_guard_admission_requests_total{kind="Secret",operation="CREATE",decision="deny"} 2',
    );
    expect(res.text).toContain(
      'gloo_guard_admission_requests_total{kind="Secret",operation="UPDATE",decision="allow"} 1',
    );
    expect(res.text).toContain('gloo_guard_violations_total{policy="no-default-relay-ca",action="deny"} 1');
    expect(res.text).toContain('gloo_guard_violations_total{policy="ui-oidc-auth",action="warn"} 1');
    expect(res.text).toContain('gloo_guard_input_errors_total{kind="Secret"} 1');
    expect(res.text).toContain('gloo_guard_invalid_reviews_total 1');
    expect(res.text).toMatch(/gloo_guard_admission_duration_seconds_count\{kind="Secret"\} 3/);
  });
});

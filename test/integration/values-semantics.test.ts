// Issues 12 and 15 (items 1-4): each point driven through the real `gloo-guard check` process and the
// webhook (createApp + supertest with a release Secret review), and both must say the same.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/types.js';
import { catalogFor } from '../../src/engine/charts/catalog.js';
import type { ChartFamily } from '../../src/engine/types.js';
import { createApp } from '../../src/server/app.js';
import { namespaceObject, objectReview, releaseReview } from '../fixtures/admission/reviews.js';
import { cli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gg-semantics-'));
});

interface Case {
  name: string;
  chart: ChartFamily;
  version: string;
  /** The values file as a user writes it (read by the CLI as Helm reads it). */
  yaml: string;
  /** What Helm stores in the release for that file (the webhook's input). */
  stored: Record<string, unknown>;
  policy: string;
  /** `action path` of every finding of that policy. */
  want: string[];
  /** Words both the CLI's JSON and the webhook's response must contain. */
  says?: string;
}

const CASES: Case[] = [
  {
    name: '15.1 --set common.insecure=1 is on',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'common:\n  insecure: 1\n',
    stored: { common: { insecure: 1 } },
    policy: 'no-insecure-relay',
    want: ['deny common.insecure'],
  },
  {
    name: '15.1 glooMgmtServer.enabled=1 switches the management-plane policies on',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'glooMgmtServer:\n  enabled: 1\n',
    stored: { glooMgmtServer: { enabled: 1 } },
    policy: 'no-bundled-redis',
    want: ['deny redis.deployment.enabled'],
  },
  {
    name: '15.1/12.9 a string "false" read two ways is reported, not guessed',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: "glooMgmtServer:\n  enabled: true\n  relay:\n    disableCa: 'false'\n    disableCaCertGeneration: true\n",
    stored: {
      glooMgmtServer: { enabled: true, relay: { disableCa: 'false', disableCaCertGeneration: true } },
    },
    policy: 'no-default-relay-ca',
    want: ['deny glooMgmtServer.relay.disableCa'],
  },
  {
    name: '15.2 prometheus.enabled: "false" leaves the subchart deployed',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: "glooMgmtServer:\n  enabled: true\nprometheus:\n  enabled: 'false'\ncommon:\n  prometheusUrl: http://prom.monitoring:9090\n",
    stored: {
      glooMgmtServer: { enabled: true },
      prometheus: { enabled: 'false' },
      common: { prometheusUrl: 'http://prom.monitoring:9090' },
    },
    policy: 'no-bundled-prometheus',
    want: ['deny prometheus.enabled'],
  },
  {
    name: '15.2 prometheus.enabled: null deletes the chart default, and a missing condition leaves the subchart deployed',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'glooMgmtServer:\n  enabled: true\nprometheus:\n  enabled: null\ncommon:\n  prometheusUrl: http://prom.monitoring:9090\n',
    stored: {
      glooMgmtServer: { enabled: true },
      prometheus: { enabled: null },
      common: { prometheusUrl: 'http://prom.monitoring:9090' },
    },
    policy: 'no-bundled-prometheus',
    want: ['deny prometheus.enabled'],
  },
  {
    name: '15.2 prometheus: null drops the whole table, and Helm still deploys the subchart with its defaults',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'glooMgmtServer:\n  enabled: true\nprometheus: null\ncommon:\n  prometheusUrl: http://prom.monitoring:9090\n',
    stored: {
      glooMgmtServer: { enabled: true },
      prometheus: null,
      common: { prometheusUrl: 'http://prom.monitoring:9090' },
    },
    policy: 'no-bundled-prometheus',
    want: ['deny prometheus.enabled'],
  },
  {
    name: '15.3 YAML 1.1: insecure: yes is a boolean',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'common:\n  insecure: yes\n',
    stored: { common: { insecure: true } },
    policy: 'no-insecure-relay',
    want: ['deny common.insecure'],
  },
  {
    name: '15.3 YAML 1.1: a << merge key applies',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'x-demo: &demo\n  insecure: On\ncommon:\n  <<: *demo\n  cluster: c1\n',
    stored: { 'x-demo': { insecure: true }, common: { insecure: true, cluster: 'c1' } },
    policy: 'no-insecure-relay',
    want: ['deny common.insecure'],
  },
  {
    name: '12.1 custom CAs with automatic client certificate rotation pass',
    chart: 'gloo-platform',
    version: '2.5.4',
    yaml: 'glooMgmtServer:\n  enabled: true\n  relay:\n    disableCa: false\n    disableCaCertGeneration: true\n',
    stored: { glooMgmtServer: { enabled: true, relay: { disableCa: false, disableCaCertGeneration: true } } },
    policy: 'no-default-relay-ca',
    want: [],
  },
  {
    name: '12.1 disableCa: true with generation on is still refused',
    chart: 'gloo-mesh-enterprise',
    version: '2.1.3',
    yaml: 'glooMeshMgmtServer:\n  relay:\n    disableCa: true\n',
    stored: { glooMeshMgmtServer: { relay: { disableCa: true } } },
    policy: 'no-default-relay-ca',
    want: ['deny glooMeshMgmtServer.relay.disableCaCertGeneration'],
  },
  {
    name: '12.2 disableCa: true needs the server TLS Secret only',
    chart: 'gloo-mesh-enterprise',
    version: '2.0.9',
    yaml: "glooMeshMgmtServer:\n  relay:\n    disableCa: true\n    disableCaCertGeneration: true\n    tlsSecret: {name: ''}\n    signingTlsSecret: {name: ''}\n",
    stored: {
      glooMeshMgmtServer: {
        relay: {
          disableCa: true,
          disableCaCertGeneration: true,
          tlsSecret: { name: '' },
          signingTlsSecret: { name: '' },
        },
      },
    },
    policy: 'relay-custom-certs',
    want: ['deny glooMeshMgmtServer.relay.tlsSecret.name'],
  },
  {
    name: "12.3 the UI's own Prometheus URL is judged",
    chart: 'gloo-platform',
    version: '2.6.2',
    yaml: 'glooMgmtServer: {enabled: true}\nglooUi: {enabled: true, prometheusUrl: http://prometheus-server}\nprometheus: {enabled: false}\ncommon: {prometheusUrl: "http://prom.monitoring:9090"}\n',
    stored: {
      glooMgmtServer: { enabled: true },
      glooUi: { enabled: true, prometheusUrl: 'http://prometheus-server' },
      prometheus: { enabled: false },
      common: { prometheusUrl: 'http://prom.monitoring:9090' },
    },
    policy: 'no-bundled-prometheus',
    want: ['deny glooUi.prometheusUrl'],
  },
  {
    name: '12.4 per-store Redis: the store that deploys its own is named',
    chart: 'gloo-platform',
    version: '2.6.2',
    yaml: 'glooMgmtServer: {enabled: true}\nredis: {deployment: {enabled: false}}\nredisStore:\n  insights: {deployment: {enabled: true}}\n',
    stored: {
      glooMgmtServer: { enabled: true },
      redis: { deployment: { enabled: false } },
      redisStore: { insights: { deployment: { enabled: true } } },
    },
    policy: 'no-bundled-redis',
    want: ['deny redisStore.insights.deployment.enabled'],
  },
  {
    name: '12.5 registerMgmtPlane.insecure and the RELAY_* extraEnvs',
    chart: 'gloo-platform',
    version: '2.6.2',
    yaml: 'glooMgmtServer:\n  enabled: true\n  extraEnvs:\n    RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION: {value: "true"}\n',
    stored: {
      glooMgmtServer: {
        enabled: true,
        extraEnvs: { RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION: { value: 'true' } },
      },
    },
    policy: 'no-insecure-relay',
    want: ['deny glooMgmtServer.extraEnvs.RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION.value'],
  },
  {
    name: '12.5 enterprise 2.2 registerMgmtPlane.insecure',
    chart: 'gloo-mesh-enterprise',
    version: '2.2.6',
    yaml: 'registerMgmtPlane:\n  enabled: true\n  insecure: true\n',
    stored: { registerMgmtPlane: { enabled: true, insecure: true } },
    policy: 'no-insecure-relay',
    want: ['deny registerMgmtPlane.insecure'],
  },
  {
    name: '12.7 enterprise 2.2 add-ons through registerMgmtPlane',
    chart: 'gloo-mesh-enterprise',
    version: '2.2.6',
    yaml: 'registerMgmtPlane:\n  enabled: true\n  rate-limiter: {enabled: true}\n',
    stored: { registerMgmtPlane: { enabled: true, 'rate-limiter': { enabled: true } } },
    policy: 'addons-separate-release',
    // Once for sharing the management release, once for its namespace (gloo-mesh, not gloo-mesh-addons).
    want: ['deny registerMgmtPlane.rate-limiter.enabled', 'deny registerMgmtPlane.rate-limiter.enabled'],
  },
  {
    name: '12.8 an enterprise values file checked as gloo-platform',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'glooMeshMgmtServer:\n  relay: {disableCa: true}\nglooMeshRedis: {enabled: false}\n',
    stored: { glooMeshMgmtServer: { relay: { disableCa: true } }, glooMeshRedis: { enabled: false } },
    policy: 'chart-values-keys',
    want: ['deny glooMeshMgmtServer', 'deny glooMeshRedis'],
  },
  {
    name: '12.10 settings the vendor marks "do not use in production"',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'common: {devMode: true}\nexperimental: {ambientEnabled: true}\n',
    stored: { common: { devMode: true }, experimental: { ambientEnabled: true } },
    policy: 'no-demo-settings',
    want: ['deny common.devMode', 'deny experimental.ambientEnabled'],
  },
  {
    name: '12.10 an inline relay token and license key, never printed',
    chart: 'gloo-platform',
    version: '2.4.3',
    yaml: 'licensing: {glooTrialLicenseKey: planted-license}\nglooMgmtServer:\n  enabled: true\n  extraEnvs:\n    RELAY_TOKEN: {value: planted-token}\n',
    stored: {
      licensing: { glooTrialLicenseKey: 'planted-license' },
      glooMgmtServer: { enabled: true, extraEnvs: { RELAY_TOKEN: { value: 'planted-token' } } },
    },
    policy: 'no-inline-credentials',
    want: ['deny licensing.glooTrialLicenseKey', 'deny glooMgmtServer.extraEnvs.RELAY_TOKEN.value'],
  },
  {
    name: '12.10 an inline exporter password is refused; "${env:NAME}" from a Secret passes',
    chart: 'gloo-platform',
    version: '2.6.5',
    yaml:
      'telemetryCollectorCustomization:\n  extraExporters:\n    redisstream/basic: {password: planted-token}\n' +
      "telemetryGatewayCustomization:\n  extraExporters:\n    clickhouse: {password: '${env:CLICKHOUSE_PASSWORD}'}\n",
    stored: {
      telemetryCollectorCustomization: {
        extraExporters: { 'redisstream/basic': { password: 'planted-token' } },
      },
      telemetryGatewayCustomization: {
        extraExporters: { clickhouse: { password: '${env:CLICKHOUSE_PASSWORD}' } },
      },
    },
    policy: 'no-inline-credentials',
    want: ['deny telemetryCollectorCustomization.extraExporters.redisstream/basic.password'],
  },
  {
    name: "12.10 the API-key hash key at the vendor's published example",
    chart: 'gloo-platform',
    version: '2.4.6',
    yaml: 'extAuthService:\n  enabled: true\n  extAuth: {apiKeyStorage: {secretKey: ThisIsSecret}}\nrateLimiter: {enabled: true, redis: {enabled: false}}\n',
    stored: {
      extAuthService: { enabled: true, extAuth: { apiKeyStorage: { secretKey: 'ThisIsSecret' } } },
      rateLimiter: { enabled: true, redis: { enabled: false } },
    },
    policy: 'no-inline-credentials',
    want: ['deny extAuthService.extAuth.apiKeyStorage.secretKey'],
    says: 'holds the example secret the vendor publishes',
  },
  {
    name: "12.4 gloo-mesh-agent 2.0 add-ons: the rate limiter's own Redis, named with both stores",
    chart: 'gloo-mesh-agent',
    version: '2.0.11',
    yaml: 'glooMeshAgent: {enabled: false}\nrate-limiter: {enabled: true}\next-auth-service: {enabled: true}\n',
    stored: {
      glooMeshAgent: { enabled: false },
      'rate-limiter': { enabled: true },
      'ext-auth-service': { enabled: true },
    },
    policy: 'no-bundled-redis',
    want: ['deny rate-limiter.redis.enabled'],
    says: 'the bundled Redis serves the stores rateLimiter, extAuthService',
  },
  {
    name: '12.4 gloo-platform 2.4 add-ons with the rate limiter Redis off pass',
    chart: 'gloo-platform',
    version: '2.4.6',
    yaml: 'rateLimiter: {enabled: true, redis: {enabled: false}}\nextAuthService: {enabled: true}\n',
    stored: { rateLimiter: { enabled: true, redis: { enabled: false } }, extAuthService: { enabled: true } },
    policy: 'no-bundled-redis',
    want: [],
  },
  {
    name: '12.1 (2.5+) simple TLS with your own server certificate is refused, naming the relay option',
    chart: 'gloo-platform',
    version: '2.6.5',
    yaml:
      'glooMgmtServer:\n  enabled: true\n  relay: {disableCa: true, disableCaCertGeneration: true, tlsSecret: {name: relay-server-tls}}\n' +
      "  extraEnvs:\n    RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION: {value: 'true'}\n",
    stored: {
      glooMgmtServer: {
        enabled: true,
        relay: { disableCa: true, disableCaCertGeneration: true, tlsSecret: { name: 'relay-server-tls' } },
        extraEnvs: { RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION: { value: 'true' } },
      },
    },
    policy: 'no-insecure-relay',
    want: ['deny glooMgmtServer.extraEnvs.RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION.value'],
    says: 'relay option \\"simple TLS with your own server TLS certificate\\"',
  },
  {
    name: '12.3 the day-2 workshop after its upgrade: only glooUi.prometheusUrl set passes',
    chart: 'gloo-platform',
    version: '2.3.0',
    yaml: 'glooMgmtServer: {enabled: true}\nglooUi: {enabled: true, prometheusUrl: "http://prom.monitoring:9090"}\nprometheus: {enabled: false}\n',
    stored: {
      glooMgmtServer: { enabled: true },
      glooUi: { enabled: true, prometheusUrl: 'http://prom.monitoring:9090' },
      prometheus: { enabled: false },
    },
    policy: 'no-bundled-prometheus',
    want: [],
  },
];

interface Shown {
  policy: string;
  action: string;
  path: string;
}

function cliFindings(c: Case, i: number): { shown: Shown[]; code: number; text: string } {
  const f = join(dir, `case-${i}.yaml`);
  writeFileSync(f, c.yaml);
  const r = cli([
    'check',
    '--chart',
    c.chart,
    '--chart-version',
    c.version,
    '-n',
    'gloo-mesh',
    f,
    '-o',
    'json',
  ]);
  const out = JSON.parse(r.stdout) as { violations: Shown[] };
  return { shown: out.violations, code: r.code, text: r.stdout };
}

async function webhookFindings(c: Case): Promise<{ lines: string[]; allowed: boolean; text: string }> {
  const config = defaultConfig();
  const body = releaseReview({
    chart: c.chart,
    chartVersion: c.version,
    values: c.stored,
    chartValues: catalogFor(c.chart, c.version).catalog.defaults,
  });
  const res = await request(createApp({ config: () => config }))
    .post('/validate')
    .send(body);
  const r = res.body.response as { allowed: boolean; status?: { message: string }; warnings?: string[] };
  const lines = [...(r.status?.message.split('\n') ?? []), ...(r.warnings ?? [])];
  return { lines, allowed: r.allowed, text: JSON.stringify(res.body) };
}

describe('values read as Helm reads them, judged as the chart consumes them: CLI and webhook', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: check and the webhook report ${JSON.stringify(c.want)}`, async () => {
      const fromCli = cliFindings(c, i);
      const mine = fromCli.shown.filter((v) => v.policy === c.policy).map((v) => `${v.action} ${v.path}`);
      expect(mine.sort()).toEqual([...c.want].sort());
      const hook = await webhookFindings(c);
      const hookPaths = hook.lines
        .filter((l) => l.startsWith(`[${c.policy}] `))
        .map((l) => /\(([^()]+)\) -> /.exec(l)?.[1] ?? l);
      expect(hookPaths.sort()).toEqual(c.want.map((w) => w.split(' ')[1]).sort());
      const denied = fromCli.shown.some((v) => v.action === 'deny');
      expect(fromCli.code).toBe(denied ? 1 : 0);
      expect(hook.allowed).toBe(!denied);
      expect(fromCli.text + hook.text).not.toMatch(/planted-(license|token)[^"]*"?\s*(is|\))/);
      if (c.says !== undefined) {
        expect(fromCli.text).toContain(c.says);
        expect(hook.text).toContain(c.says);
      }
    });
  });

  it('when values name a chart version newer than the catalog, then it is judged with the newest and a note says so', () => {
    const f = join(dir, 'newer.yaml');
    writeFileSync(f, 'glooAgent: {enabled: true}\n');
    const r = cli(['check', '--chart', 'gloo-platform', '--chart-version', '2.12.1', f, '-o', 'json']);
    const out = JSON.parse(r.stdout) as { notes: string[] };
    expect(out.notes).toEqual([
      "chart gloo-platform 2.12.1 is newer than gloo-guard's catalog; judged with the keys and defaults of 2.9",
    ]);
  });

  it('12.6 when gloo-mesh is enrolled in Istio ambient mode, then check and the webhook refuse it; gloo-mesh-addons passes', async () => {
    const f = join(dir, 'ambient.yaml');
    const ambient = { 'istio.io/dataplane-mode': 'ambient' };
    writeFileSync(
      f,
      ['gloo-mesh', 'gloo-mesh-addons']
        .map((n) => JSON.stringify(namespaceObject(n, ambient)))
        .join('\n---\n'),
    );
    const r = cli(['check', f, '-o', 'json']);
    const out = JSON.parse(r.stdout) as {
      violations: Array<{ policy: string; object: string; path: string }>;
    };
    expect(out.violations.map((v) => `${v.object} ${v.policy} ${v.path}`)).toEqual([
      'Namespace gloo-mesh no-injection-in-gloo-mesh metadata.labels["istio.io/dataplane-mode"]',
    ]);
    expect(r.code).toBe(1);
    const config = defaultConfig();
    const app = createApp({ config: () => config });
    const mgmt = await request(app)
      .post('/validate')
      .send(objectReview(namespaceObject('gloo-mesh', ambient)));
    expect(mgmt.body.response.allowed).toBe(false);
    expect(mgmt.body.response.status.message).toContain('enrolled in Istio ambient mode');
    const addons = await request(app)
      .post('/validate')
      .send(objectReview(namespaceObject('gloo-mesh-addons', ambient)));
    expect(addons.body.response.allowed).toBe(true);
  });

  it('12.5 when a rendered agent Deployment sets RELAY_DISABLE_SERVER_CERTIFICATE_VALIDATION, then check and the webhook refuse it', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'gloo-mesh-agent', namespace: 'gloo-mesh' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'gloo-mesh-agent',
                image: 'gcr.io/gloo-mesh/gloo-mesh-agent:2.6.5',
                env: [{ name: 'RELAY_DISABLE_SERVER_CERTIFICATE_VALIDATION', value: 'true' }],
              },
            ],
          },
        },
      },
    };
    const f = join(dir, 'agent-deployment.yaml');
    writeFileSync(f, JSON.stringify(deployment));
    const r = cli(['check', f, '-o', 'json']);
    const out = JSON.parse(r.stdout) as { violations: Array<{ policy: string; path: string }> };
    expect(out.violations.filter((v) => v.policy === 'no-insecure-relay').map((v) => v.path)).toEqual([
      'spec.template.spec.containers[0].env[0].value',
    ]);
    expect(r.code).toBe(1);
    const config = defaultConfig();
    const res = await request(createApp({ config: () => config }))
      .post('/validate')
      .send(objectReview(deployment));
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.message).toContain(
      "[no-insecure-relay] RELAY_DISABLE_SERVER_CERTIFICATE_VALIDATION is on: the agent does not validate the server's certificate",
    );
  });

  it("15.4 when a release's chart declares no redis.deployment.enabled, then no bundled Redis is assumed", async () => {
    const config = defaultConfig();
    const body = releaseReview({
      chart: 'gloo-platform',
      chartVersion: '2.4.3',
      values: { glooMgmtServer: { enabled: true } },
      chartValues: { glooMgmtServer: { enabled: false }, prometheus: { enabled: false } },
    });
    const res = await request(createApp({ config: () => config }))
      .post('/validate')
      .send(body);
    const r = res.body.response as { status?: { message: string } };
    expect(r.status?.message ?? '').not.toContain('[no-bundled-redis]');
    expect(r.status?.message ?? '').toContain('[no-default-relay-ca]');
  });
});

/**
 * The AdmissionReviews the benchmark sends, built as the API server would send them: a Deployment, a
 * Namespace, a small Helm release and one close to the 1 MiB Secret limit, plus a gzip bomb. Release
 * Secrets are encoded exactly as Helm stores them (JSON, gzip best compression, base64, then base64
 * again on the wire). Content is seeded, so every run sends the same bytes.
 */
import { gzipSync, constants as zc } from 'node:zlib';
import { stringify } from 'yaml';
import { CHART_DEFAULTS } from '../src/engine/charts/defaults.js';
import { coalesce } from '../src/engine/values.js';
import { encodeReleasePayload, RELEASE_SECRET_TYPE } from '../src/helm/release.js';
import { bytes, camel, identifier, int, pick, seeded, sentence, sha256, type Random } from './prng.js';
import { PRODUCTION_VALUES } from '../test/fixtures/admission/reviews.js';

/** Kubernetes caps the data of a Secret (the sum of the decoded values) at 1 MiB. */
export const MAX_SECRET_BYTES = 1024 * 1024;

/** The reviews every server is measured with. */
export type ReviewName = 'deployment' | 'namespace' | 'release-small' | 'release-large';

/** A review ready to send, with the sizes that describe it. */
export interface BenchReview {
  name: ReviewName | 'gzip-bomb';
  /** The AdmissionReview as sent (JSON bytes). */
  body: Buffer;
  /** For release Secrets: the length of Helm's base64 string (what counts against the 1 MiB limit). */
  secretBytes?: number;
  /** For release Secrets: the release JSON after gunzip. */
  releaseJsonBytes?: number;
}

type Obj = Record<string, unknown>;

const KINDS = {
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' },
  Namespace: { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces' },
  Secret: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets' },
} as const;

const TIMESTAMP = '2025-03-14T09:26:53Z';

function managedFields(manager: string, apiVersion: string, fields: Obj): Obj[] {
  return [
    { manager, operation: 'Update', apiVersion, time: TIMESTAMP, fieldsType: 'FieldsV1', fieldsV1: fields },
  ];
}

/** Wraps an object in an admission.k8s.io/v1 AdmissionReview CREATE, as the API server sends it. */
export function admissionReview(object: Obj, kindName: keyof typeof KINDS, uidSeed: string): Obj {
  const k = KINDS[kindName];
  const md = (object.metadata ?? {}) as { name?: string; namespace?: string };
  const gvk = { group: k.group, version: k.version, kind: k.kind };
  const gvr = { group: k.group, version: k.version, resource: k.resource };
  const h = sha256(uidSeed);
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: md.name,
      ...(md.namespace !== undefined ? { namespace: md.namespace } : {}),
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:argocd:argocd-application-controller',
        uid: '5b9a8e1c-7d64-4f3e-9a21-2f0c8d1e6b73',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd', 'system:authenticated'],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', fieldManager: 'helm' },
    },
  };
}

/** The management server Deployment as the gloo-mesh-enterprise chart renders it (passes every policy). */
export function deploymentObject(): Obj {
  const labels = { app: 'gloo-mesh-mgmt-server', 'app.kubernetes.io/managed-by': 'Helm' };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'gloo-mesh-mgmt-server',
      namespace: 'gloo-mesh',
      labels,
      annotations: {
        'meta.helm.sh/release-name': 'gloo-platform',
        'meta.helm.sh/release-namespace': 'gloo-mesh',
      },
      managedFields: managedFields('helm', 'apps/v1', {
        'f:metadata': { 'f:annotations': { '.': {}, 'f:meta.helm.sh/release-name': {} }, 'f:labels': {} },
        'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:strategy': {}, 'f:template': {} },
      }),
    },
    spec: {
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: 'gloo-mesh-mgmt-server' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': '9091',
            'prometheus.io/path': '/metrics',
            'sidecar.istio.io/inject': 'false',
            'checksum/config': sha256('gloo-mesh-mgmt-server-config'),
          },
        },
        spec: {
          serviceAccountName: 'gloo-mesh-mgmt-server',
          securityContext: { runAsNonRoot: true, fsGroup: 10101, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'gloo-mesh-mgmt-server',
              image: 'gcr.io/gloo-mesh/gloo-mesh-mgmt-server:2.5.4',
              imagePullPolicy: 'IfNotPresent',
              args: [
                '--cluster=mgmt-cluster',
                '--relay-tls-secret-name=relay-server-tls-secret',
                '--relay-signing-tls-secret-name=relay-tls-signing-secret',
                '--redis-address=redis.gloo-mesh-redis:6379',
                '--prometheus-url=http://prometheus.monitoring:9090',
                '--verbose=false',
                '--leader-election=true',
              ],
              env: [
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                {
                  name: 'LICENSE_KEY',
                  valueFrom: { secretKeyRef: { name: 'gloo-mesh-license', key: 'key' } },
                },
                { name: 'GOMEMLIMIT', value: '900MiB' },
              ],
              ports: [
                { name: 'grpc', containerPort: 9900, protocol: 'TCP' },
                { name: 'healthcheck', containerPort: 8090, protocol: 'TCP' },
                { name: 'stats', containerPort: 9091, protocol: 'TCP' },
              ],
              readinessProbe: {
                httpGet: { path: '/health', port: 8090, scheme: 'HTTP' },
                initialDelaySeconds: 5,
                periodSeconds: 10,
                failureThreshold: 3,
              },
              resources: { requests: { cpu: '125m', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'license', mountPath: '/etc/gloo-mesh/license', readOnly: true }],
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          volumes: [{ name: 'license', secret: { secretName: 'gloo-mesh-license', defaultMode: 420 } }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
        },
      },
    },
    status: {},
  };
}

/** The gloo-mesh Namespace (passes every policy: not labelled for injection). */
export function namespaceObject(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'gloo-mesh',
      labels: { 'kubernetes.io/metadata.name': 'gloo-mesh', team: 'platform' },
      annotations: { owner: 'platform-team@example.com' },
      managedFields: managedFields('kubectl-create', 'v1', {
        'f:metadata': { 'f:labels': { '.': {}, 'f:kubernetes.io/metadata.name': {}, 'f:team': {} } },
      }),
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** User values for gloo-platform that pass every default policy (a production management plane). */
export function productionPlatformValues(): Obj {
  return {
    common: { cluster: 'mgmt-cluster', prometheusUrl: 'http://prometheus.monitoring:9090' },
    licensing: { createLicenseSecret: false, licenseSecretName: 'gloo-mesh-license' },
    prometheus: { enabled: false },
    redis: { deployment: { enabled: false }, address: 'redis.gloo-mesh-redis:6379' },
    glooMgmtServer: {
      enabled: true,
      serviceOverrides: {
        metadata: { annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' } },
      },
      relay: {
        disableCa: true,
        disableCaCertGeneration: true,
        tlsSecret: { name: 'relay-server-tls-secret' },
        signingTlsSecret: { name: 'relay-tls-signing-secret' },
      },
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '2Gi' } },
    },
    glooUi: {
      enabled: true,
      auth: {
        enabled: true,
        backend: 'oidc',
        oidc: {
          issuerUrl: 'https://idp.example.com/realms/mesh',
          clientId: 'gloo-mesh-ui',
          appUrl: 'https://gloo-mesh-ui.example.com',
          clientSecretName: 'dashboard',
        },
      },
    },
    telemetryGateway: { enabled: true, service: { type: 'LoadBalancer' } },
    telemetryCollector: { enabled: true },
  };
}

/** One component of a generated chart: its values, its template, a CRD and the objects it renders. */
interface Component {
  name: string;
  valuesKey: string;
  values: Obj;
}

const KIND_POOL = [
  'Deployment',
  'Service',
  'ConfigMap',
  'ConfigMap',
  'ServiceAccount',
  'ClusterRole',
  'RoleBinding',
  'Role',
];

function component(rng: Random, i: number): Component {
  const name = `gloo-${identifier(rng)}-${i}`;
  return {
    name,
    valuesKey: camel(rng) + String(i),
    values: {
      enabled: rng() < 0.7,
      image: { registry: 'gcr.io/gloo-mesh', repository: name, tag: '', pullPolicy: 'IfNotPresent' },
      replicas: int(rng, 1, 3),
      resources: { requests: { cpu: `${int(rng, 1, 20) * 25}m`, memory: `${int(rng, 1, 16) * 64}Mi` } },
      podAnnotations: { [`${identifier(rng, '.')}/${identifier(rng)}`]: identifier(rng) },
      env: Array.from({ length: int(rng, 1, 4) }, () => ({
        name: identifier(rng, '_').toUpperCase(),
        value: identifier(rng),
      })),
      [camel(rng)]: {
        [camel(rng)]: int(rng, 1, 1000),
        [camel(rng)]: identifier(rng),
        [camel(rng)]: rng() < 0.5,
      },
    },
  };
}

function renderedObjects(rng: Random, c: Component, chartVersion: string): Obj[] {
  const labels = {
    app: c.name,
    'app.kubernetes.io/managed-by': 'Helm',
    'app.kubernetes.io/version': chartVersion,
    'helm.sh/chart': `gloo-platform-${chartVersion}`,
  };
  const meta = (kind: string): Obj => ({
    name: kind === 'Deployment' || kind === 'Service' ? c.name : `${c.name}-${kind.toLowerCase()}`,
    namespace: 'gloo-mesh',
    labels,
  });
  const out: Obj[] = [];
  for (const kind of KIND_POOL) {
    if (kind === 'Deployment') {
      out.push({
        apiVersion: 'apps/v1',
        kind,
        metadata: meta(kind),
        spec: {
          replicas: c.values.replicas,
          selector: { matchLabels: { app: c.name } },
          template: {
            metadata: {
              labels,
              annotations: {
                'checksum/config': sha256(`${c.name}/config/${rng()}`),
                ...(c.values.podAnnotations as Obj),
              },
            },
            spec: {
              serviceAccountName: c.name,
              containers: [
                {
                  name: c.name,
                  image: `gcr.io/gloo-mesh/${c.name}:${chartVersion}`,
                  args: Array.from(
                    { length: int(rng, 2, 8) },
                    () => `--${identifier(rng)}=${identifier(rng)}`,
                  ),
                  env: c.values.env,
                  ports: [{ name: 'http', containerPort: int(rng, 1024, 65000) }],
                  resources: c.values.resources,
                },
              ],
            },
          },
        },
      });
    } else if (kind === 'Service') {
      out.push({
        apiVersion: 'v1',
        kind,
        metadata: meta(kind),
        spec: { selector: { app: c.name }, ports: [{ name: 'http', port: int(rng, 80, 9999) }] },
      });
    } else if (kind === 'ConfigMap') {
      const config = Array.from(
        { length: int(rng, 10, 40) },
        () => `# ${sentence(rng, int(rng, 6, 14))}\n${identifier(rng, '_')}: ${identifier(rng)}`,
      ).join('\n');
      const md = { ...meta(kind), name: `${c.name}-${identifier(rng)}` };
      out.push({ apiVersion: 'v1', kind, metadata: md, data: { 'config.yaml': config } });
    } else if (kind === 'ClusterRole' || kind === 'Role') {
      out.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata: kind === 'Role' ? meta(kind) : { name: `${c.name}-gloo-mesh`, labels },
        rules: Array.from({ length: int(rng, 2, 6) }, () => ({
          apiGroups: [`${identifier(rng, '.')}.solo.io`],
          resources: Array.from({ length: int(rng, 1, 4) }, () => identifier(rng, '')),
          verbs: ['get', 'list', 'watch'],
        })),
      });
    } else {
      out.push({ apiVersion: 'v1', kind, metadata: meta(kind) });
    }
  }
  if (rng() < 0.25) {
    // Certificates and tokens: the part of a real manifest that gzip cannot shrink.
    out.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('Secret'),
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': bytes(rng, 900).toString('base64'), 'tls.key': bytes(rng, 600).toString('base64') },
    });
  }
  return out;
}

function templateText(rng: Random, c: Component): string {
  const lines = [
    `{{- if .Values.${c.valuesKey}.enabled }}`,
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${c.name}`,
    '  namespace: {{ .Release.Namespace }}',
    '  labels:',
    '    {{- include "gloo-platform.labels" . | nindent 4 }}',
    'spec:',
    `  replicas: {{ .Values.${c.valuesKey}.replicas }}`,
    '  template:',
    '    metadata:',
    '      annotations:',
    `        checksum/config: {{ include (print $.Template.BasePath "/${c.name}/configmap.yaml") . | sha256sum }}`,
    '    spec:',
    '      containers:',
    `      - name: ${c.name}`,
    `        image: {{ template "gloo-platform.image" .Values.${c.valuesKey}.image }}`,
  ];
  for (let i = int(rng, 3, 10); i > 0; i--) {
    lines.push(`        {{- /* ${sentence(rng, int(rng, 5, 12))} */}}`);
    lines.push(
      `        - --${identifier(rng)}={{ .Values.${c.valuesKey}.${camel(rng)} | default "${identifier(rng)}" }}`,
    );
  }
  lines.push('{{- end }}');
  return lines.join('\n');
}

function schemaProperties(rng: Random, depth: number): Obj {
  const props: Obj = {};
  for (let i = int(rng, 3, 7); i > 0; i--) {
    const nested = depth > 0 && rng() < 0.45;
    props[camel(rng)] = nested
      ? {
          type: 'object',
          description: sentence(rng, int(rng, 8, 30)),
          properties: schemaProperties(rng, depth - 1),
        }
      : {
          type: pick(rng, ['string', 'integer', 'boolean', 'array']),
          description: sentence(rng, int(rng, 8, 40)),
          ...(rng() < 0.3 ? { default: identifier(rng) } : {}),
        };
  }
  return props;
}

function crd(rng: Random, c: Component): string {
  const kind = camel(rng).replace(/^./, (ch) => ch.toUpperCase());
  const group = `${identifier(rng, '.')}.solo.io`;
  return stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.toLowerCase()}s.${group}`, labels: { app: c.name } },
    spec: {
      group,
      names: {
        kind,
        listKind: `${kind}List`,
        plural: `${kind.toLowerCase()}s`,
        singular: kind.toLowerCase(),
      },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v2',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  description: sentence(rng, 20),
                  properties: schemaProperties(rng, 2),
                },
                status: { type: 'object', properties: schemaProperties(rng, 1) },
              },
            },
          },
        },
      ],
    },
  });
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/** What a release is made of; `scale` is the number of generated components. */
export interface ReleaseSpec {
  name: string;
  namespace: string;
  chart: string;
  chartVersion: string;
  revision: number;
  config: Obj;
  scale: number;
  seed: number;
  /** Whether the chart ships CRDs (chart.files); small charts do not. */
  crds?: boolean;
}

/**
 * A Helm release object with Helm's field order (name, info, chart, config, manifest, hooks, version,
 * namespace; chart: metadata, lock, templates, values, schema, files).
 */
export function helmRelease(spec: ReleaseSpec): Obj {
  const rng = seeded(spec.seed);
  const components = Array.from({ length: spec.scale }, (_, i) => component(rng, i));
  const family = spec.chart === 'gloo-platform' ? 'gloo-platform' : 'gloo-mesh-enterprise';
  let values: Obj = CHART_DEFAULTS[family];
  for (const c of components) values = coalesce(values, { [c.valuesKey]: c.values });
  const docs: string[] = [];
  const templates: Obj[] = [];
  const files: Obj[] = [{ name: 'README.md', data: b64(`# ${spec.chart}\n\n${sentence(rng, 60)}\n`) }];
  for (const c of components) {
    for (const o of renderedObjects(rng, c, spec.chartVersion)) {
      docs.push(
        `---\n# Source: ${spec.chart}/templates/${c.name}/${String(o.kind).toLowerCase()}.yaml\n${stringify(o)}`,
      );
    }
    templates.push({ name: `templates/${c.name}/deployment.yaml`, data: b64(templateText(rng, c)) });
    // Some components ship a CRD (crds/ is in chart.files): the usual reason a release nears 1 MiB.
    if (spec.crds !== false && components.indexOf(c) % 3 === 0) {
      files.push({ name: `crds/${c.name}.yaml`, data: b64(crd(rng, c)) });
    }
  }
  const schemaDepth = spec.crds === false ? 0 : 2;
  const schema = {
    $schema: 'http://json-schema.org/schema#',
    type: 'object',
    properties: schemaProperties(rng, schemaDepth),
  };
  const status = spec.revision === 1 ? 'pending-install' : 'pending-upgrade';
  return {
    name: spec.name,
    info: {
      first_deployed: '2024-11-02T08:15:42.118273645Z',
      last_deployed: '2025-03-14T09:26:53.512907331Z',
      deleted: '',
      description: spec.revision === 1 ? 'Initial install underway' : 'Preparing upgrade',
      status,
      notes: `${sentence(rng, 40)}\n`,
    },
    chart: {
      metadata: {
        name: spec.chart,
        version: spec.chartVersion,
        description: sentence(rng, 12),
        apiVersion: 'v2',
        appVersion: spec.chartVersion,
        type: 'application',
        annotations: { 'artifacthub.io/license': 'Solo.io Enterprise' },
      },
      lock: null,
      templates,
      values,
      schema: b64(JSON.stringify(schema)),
      files,
    },
    config: spec.config,
    manifest: docs.join('\n'),
    hooks: [],
    version: spec.revision,
    namespace: spec.namespace,
  };
}

/** The release Secret Helm creates for a release, as the API server shows it (data base64-encoded). */
export function releaseSecretFor(release: Obj, helmBase64: string): Obj {
  const name = String(release.name);
  const version = Number(release.version);
  const status = String((release.info as Obj).status);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: RELEASE_SECRET_TYPE,
    metadata: {
      name: `sh.helm.release.v1.${name}.v${version}`,
      namespace: String(release.namespace),
      labels: { name, owner: 'helm', status, version: String(version), createdAt: '1741944413' },
      managedFields: managedFields('helm', 'v1', {
        'f:data': { '.': {}, 'f:release': {} },
        'f:metadata': {
          'f:labels': { '.': {}, 'f:name': {}, 'f:owner': {}, 'f:status': {}, 'f:version': {} },
        },
        'f:type': {},
      }),
    },
    data: { release: Buffer.from(helmBase64).toString('base64') },
  };
}

function releaseReview(name: ReviewName, release: Obj): BenchReview {
  const helmBase64 = encodeReleasePayload(release);
  const review = admissionReview(releaseSecretFor(release, helmBase64), 'Secret', name);
  return {
    name,
    body: Buffer.from(JSON.stringify(review)),
    secretBytes: helmBase64.length,
    releaseJsonBytes: Buffer.byteLength(JSON.stringify(release)),
  };
}

function platformSpec(scale: number, seed: number): ReleaseSpec {
  return {
    name: 'gloo-platform',
    namespace: 'gloo-mesh',
    chart: 'gloo-platform',
    chartVersion: '2.5.4',
    revision: 7,
    config: productionPlatformValues(),
    scale,
    seed,
  };
}

/** The largest release (by component count) whose Secret stays under `targetBytes`. */
export function largeReleaseReview(targetBytes: number, seed = 7): BenchReview {
  const sizeAt = new Map<number, number>();
  const measure = (scale: number): number => {
    const cached = sizeAt.get(scale);
    if (cached !== undefined) return cached;
    const size = encodeReleasePayload(helmRelease(platformSpec(scale, seed))).length;
    sizeAt.set(scale, size);
    return size;
  };
  // Size grows about linearly with the component count: a few secant steps, then walk down to fit.
  let scale = 40;
  for (let i = 0; i < 4; i++) {
    const next = Math.max(1, Math.floor((scale * targetBytes) / measure(scale)));
    if (next === scale) break;
    scale = next;
  }
  while (scale > 1 && measure(scale) > targetBytes) scale -= 1;
  while (measure(scale + 1) <= targetBytes) scale += 1;
  return releaseReview('release-large', helmRelease(platformSpec(scale, seed)));
}

/** A gloo-mesh-enterprise release whose Secret is about 10 KB. */
export function smallReleaseReview(seed = 3): BenchReview {
  const release = helmRelease({
    name: 'gloo-mesh-enterprise',
    namespace: 'gloo-mesh',
    chart: 'gloo-mesh-enterprise',
    chartVersion: '2.4.9',
    revision: 2,
    // The same production values the tests use for gloo-mesh-enterprise: every policy passes.
    config: PRODUCTION_VALUES,
    scale: 1,
    seed,
    crds: false,
  });
  return releaseReview('release-small', release);
}

/**
 * A release Secret whose gzip expands to `expandBytes` (JSON that opens and never closes), within the
 * 1 MiB Secret limit: what a hostile or broken client could send.
 */
export function gzipBombReview(expandBytes: number): BenchReview {
  const prefix = Buffer.from('{"name":"bomb","info":{"status":"pending-install"},"manifest":"');
  const payload = Buffer.alloc(expandBytes, 0x20);
  prefix.copy(payload);
  const helmBase64 = gzipSync(payload, { level: zc.Z_BEST_COMPRESSION }).toString('base64');
  const release = { name: 'bomb', version: 1, namespace: 'gloo-mesh', info: { status: 'pending-install' } };
  const review = admissionReview(releaseSecretFor(release, helmBase64), 'Secret', 'gzip-bomb');
  return { name: 'gzip-bomb', body: Buffer.from(JSON.stringify(review)), secretBytes: helmBase64.length };
}

/** Every review of a run. */
export interface ReviewSet {
  deployment: BenchReview;
  namespace: BenchReview;
  'release-small': BenchReview;
  'release-large': BenchReview;
  'gzip-bomb': BenchReview;
}

/** How far below the Secret limit the large release stays: Helm adds labels, the API server metadata. */
export const LARGE_RELEASE_TARGET = Math.floor(MAX_SECRET_BYTES * 0.97);

/** How far the gzip bomb expands (the most gzip can pack into a Secret is about 1 GB). */
export const GZIP_BOMB_EXPANDS_TO = 700 * 1024 * 1024;

/** Builds every review of a run (seconds: the large release is fitted to the limit by search). */
export function buildReviews(): ReviewSet {
  const simple = (
    name: 'deployment' | 'namespace',
    object: Obj,
    kind: 'Deployment' | 'Namespace',
  ): BenchReview => ({
    name,
    body: Buffer.from(JSON.stringify(admissionReview(object, kind, name))),
  });
  return {
    deployment: simple('deployment', deploymentObject(), 'Deployment'),
    namespace: simple('namespace', namespaceObject(), 'Namespace'),
    'release-small': smallReleaseReview(),
    'release-large': largeReleaseReview(LARGE_RELEASE_TARGET),
    'gzip-bomb': gzipBombReview(GZIP_BOMB_EXPANDS_TO),
  };
}

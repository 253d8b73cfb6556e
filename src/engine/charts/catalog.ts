/**
 * Chart knowledge as data (issue 12): per chart family and minor version, the keys policies read,
 * their defaults, how the chart consumes each switch, the top-level keys the chart knows, and the
 * public source of each fact. Adapters read it; nothing else hard-codes chart keys.
 */
import type { FlagUse } from '../helm-values.js';
import type { ChartFamily } from '../types.js';
import { coalesce } from '../values.js';

/** A public source a fact came from (short id used in the tables below, expanded in docs). */
export const SOURCES: Readonly<Record<string, string>> = {
  'helm-ref-2.0':
    'Gloo Mesh Enterprise 2.0/2.1 Helm reference (gloo-mesh-enterprise and gloo-mesh-agent charts), docs.solo.io',
  'use-cases-2.0':
    'solo-io/gloo-mesh-use-cases gloo-mesh-enterprise/helm-install/2.0 and 2.2 values-mgmt-plane.yaml, values-data-plane.yaml',
  'helm-ref-2.2': 'Gloo Mesh Enterprise 2.2 Helm reference (registerMgmtPlane, global.cluster), docs.solo.io',
  'helm-ref-platform': 'Gloo Platform Helm reference (gloo-platform chart 2.3+), docs.solo.io',
  'relay-options-2.3':
    'docs.solo.io gloo-mesh-enterprise 2.3.x setup/prod/certs/relay/setup-options: table with "Suggested environment"',
  'relay-options-2.5':
    'docs.solo.io gloo-mesh-enterprise 2.5.x setup/prod/certs/relay/setup-options: insecure, simple TLS, mTLS options',
  'day-2-workshop':
    'solo-io/solo-cop workshops/gloo-mesh-day-2 (glooUi.prometheusUrl, bring-your-own relay certs)',
  'byo-redis-2.6': 'solo-io/workshops gloo-mesh/old-versions/2-6/enterprise/byo-redis (redisStore.<store>)',
  'golden-values': 'community "golden values" repositories: glooMgmtServer.extraEnvs RELAY_* switches',
  'prod-practices-2.0': 'docs.solo.io gloo-mesh-enterprise 2.0 "Best practices for Gloo Mesh in prod"',
};

/** The vendor's "Suggested environment" column of the relay setup options. */
export type RelayEnvironment = 'Demo or testing' | 'Testing or POCs' | 'Production';

/**
 * One relay setup option of the management server, selected by its two CA switches and, from 2.5, by
 * whether the server authenticates agents by client certificate (mTLS) or only by relay token (simple TLS:
 * `RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION` in the management server's env).
 */
export interface RelayOption {
  title: string;
  disableCa: boolean;
  disableCaCertGeneration: boolean;
  /** false for simple TLS: "The identity of the Gloo agent is not verified" (relay setup options, 2.5+). */
  clientCertificates: boolean;
  /** The management server generates the CA behind its server certificate itself (self-signed). */
  selfSigned: boolean;
  environment: RelayEnvironment;
  /** Set when the vendor's column could not be read: what gloo-guard assumes, and why. */
  assumed?: string;
  source: string;
}

// The 2.5+ setup-options page lists simple TLS, but its "suggested environment" column could not be read
// (test/corpus/SOURCES.md, question 4); the page says "The identity of the Gloo agent is not verified".
const SIMPLE_TLS_ASSUMED = 'gloo-guard takes it as not for production, since the agent is not verified';

function mtlsOptions(source: string): RelayOption[] {
  const mtls = { clientCertificates: true, source };
  return [
    {
      ...mtls,
      title: 'Gloo self-signed CAs with automatic client certificate rotation',
      disableCa: false,
      disableCaCertGeneration: false,
      selfSigned: true,
      environment: 'Testing or POCs',
    },
    {
      ...mtls,
      title: 'custom CAs with automatic client certificate rotation',
      disableCa: false,
      disableCaCertGeneration: true,
      selfSigned: false,
      environment: 'Production',
    },
    {
      ...mtls,
      title: 'your own server and agent certificates',
      disableCa: true,
      disableCaCertGeneration: true,
      selfSigned: false,
      environment: 'Production',
    },
    // Not a documented option: the CA is off yet the server still generates self-signed certificates.
    {
      ...mtls,
      title: 'CA disabled but self-signed certificates still generated',
      disableCa: true,
      disableCaCertGeneration: false,
      selfSigned: true,
      environment: 'Testing or POCs',
    },
  ];
}

/** The 2.5+ simple TLS rows: a self-signed server certificate, or your own (tlsSecret, generation off). */
function simpleTlsOptions(source: string): RelayOption[] {
  const simple = {
    clientCertificates: false,
    environment: 'Testing or POCs' as const,
    assumed: SIMPLE_TLS_ASSUMED,
    source,
  };
  return [false, true].flatMap((disableCa) => [
    {
      ...simple,
      title: 'simple TLS with a self-signed server TLS certificate',
      disableCa,
      disableCaCertGeneration: false,
      selfSigned: true,
    },
    {
      ...simple,
      title: 'simple TLS with your own server TLS certificate',
      disableCa,
      disableCaCertGeneration: true,
      selfSigned: false,
    },
  ]);
}

function relayOptions(source: string, simpleTls = false): readonly RelayOption[] {
  return [...mtlsOptions(source), ...(simpleTls ? simpleTlsOptions(source) : [])];
}

/** A key that holds a credential when written inline into values. */
export interface CredentialKey {
  /** Dotted path; `*` stands for any one key (exporters are named by the user). */
  path: string;
  /** What to use instead: the Secret reference the chart offers. */
  instead: string;
  /**
   * The chart offers no Secret reference: only the value the vendor published in its examples counts,
   * since that one is known to everyone (a random value of your own is the documented use).
   */
  publishedValues?: readonly string[];
  /** The OpenTelemetry collector expands `${env:NAME}` itself: a reference to an env var, not a credential. */
  collectorEnv?: boolean;
}

/** How the chart consumes each switch a policy reads; a path not listed is `unknown`. */
export type FlagUses = Readonly<Record<string, FlagUse>>;

/** The catalog of one chart family at one minor version. */
export interface ChartCatalog {
  family: ChartFamily;
  /** `2.0`, `2.6`: the minor version the entry describes. */
  minor: string;
  /** Defaults of the keys policies read, as the chart's values.yaml has them. */
  defaults: Record<string, unknown>;
  /** Top-level keys of the chart's values (what `helm show values` lists at the first level). */
  topLevelKeys: readonly string[];
  flags: FlagUses;
  /** Keys the vendor marks "do not use in production", with the vendor's words. */
  demoKeys: ReadonlyArray<{ path: string; quote: string; source: string }>;
  /** Keys that hold a credential inline, and the Secret reference to use instead. */
  credentialKeys: readonly CredentialKey[];
  /** Per-store Redis (gloo-platform 2.5+): the stores and the role that runs each. */
  redisStores: ReadonlyArray<{ store: string; role: 'management' | 'addons' }>;
  /** Whether the UI reads its own Prometheus URL (`glooUi.prometheusUrl`). */
  uiPrometheusUrl: boolean;
  /** The relay setup options of this version with the vendor's suggested environment. */
  relayOptions: readonly RelayOption[];
  sources: readonly string[];
}

const image = (repository: string): Record<string, unknown> => ({
  registry: 'gcr.io/gloo-mesh',
  repository,
  tag: '',
  pullPolicy: 'IfNotPresent',
});

const mgmtRelay = {
  tlsSecret: { name: 'relay-server-tls-secret' },
  signingTlsSecret: { name: 'relay-tls-signing-secret' },
  tokenSecret: { name: 'relay-identity-token-secret', key: 'token', namespace: '' },
  disableCa: false,
  disableCaCertGeneration: false,
  disableTokenGeneration: false,
  pushRbac: true,
};

const agentRelay = {
  serverAddress: '',
  authority: 'gloo-mesh-mgmt-server.gloo-mesh',
  clientTlsSecret: { name: 'relay-client-tls-secret' },
  rootTlsSecret: { name: 'relay-root-tls-secret' },
  tokenSecret: { name: 'relay-identity-token-secret', key: 'token' },
};

const uiAuth = {
  enabled: false,
  backend: '',
  oidc: {
    clientId: '',
    clientSecret: '',
    clientSecretName: '',
    issuerUrl: '',
    appUrl: '',
    session: { backend: '', redis: { host: '' } },
  },
};

const AGENT_DEFAULTS = {
  insecure: false,
  cluster: '',
  leaderElection: true,
  relay: agentRelay,
  glooMeshAgent: {
    enabled: true,
    image: image('gloo-mesh-agent'),
    serviceType: 'ClusterIP',
    ports: { grpc: 9977, http: 9988, stats: 9091 },
  },
  'ext-auth-service': { enabled: false },
  // The add-ons Redis (`redis` in gloo-mesh-addons) is the rate limiter subchart's own (`rate-limiter.redis.image.*`
  // in the reference); solo-io/workshops 2-6 byo-redis turns it off with `rateLimiter.redis.enabled: false`.
  'rate-limiter': { enabled: false, redis: { enabled: true } },
};

const ENTERPRISE_20 = {
  insecure: false,
  devMode: false,
  verbose: false,
  leaderElection: true,
  adminNamespace: '',
  mgmtClusterName: 'mgmt-cluster',
  licenseKey: '',
  prometheusUrl: 'http://prometheus-server',
  prometheus: { enabled: true },
  glooMeshMgmtServer: {
    enabled: true,
    image: image('gloo-mesh-mgmt-server'),
    serviceType: 'LoadBalancer',
    ports: { grpc: 9900, healthcheck: 8090, stats: 9091 },
    relay: mgmtRelay,
  },
  glooMeshUi: { enabled: true, serviceType: 'ClusterIP', image: image('gloo-mesh-apiserver'), auth: uiAuth },
  glooMeshRedis: { enabled: true, addr: '', serviceType: 'ClusterIP' },
};

/** 2.1/2.2 embed the agent chart as `registerMgmtPlane` (condition `registerMgmtPlane.enabled`). */
const ENTERPRISE_21 = coalesce(ENTERPRISE_20, {
  registerMgmtPlane: { enabled: false, ...AGENT_DEFAULTS, glooMeshAgent: AGENT_DEFAULTS.glooMeshAgent },
});
const ENTERPRISE_22 = coalesce(ENTERPRISE_21, { global: { cluster: '' } });

const PLATFORM_23 = {
  common: {
    insecure: false,
    cluster: '',
    devMode: false,
    prometheusUrl: 'http://prometheus-server',
    addonNamespace: 'gloo-mesh-addons',
  },
  licensing: {
    glooMeshLicenseKey: '',
    glooGatewayLicenseKey: '',
    glooNetworkLicenseKey: '',
    glooTrialLicenseKey: '',
    licenseKey: '',
    licenseSecretName: '',
  },
  prometheus: { enabled: true },
  redis: { deployment: { enabled: true }, address: 'gloo-mesh-redis.gloo-mesh:6379' },
  glooMgmtServer: {
    enabled: false,
    insecure: false,
    registerCluster: false,
    serviceType: 'LoadBalancer',
    image: image('gloo-mesh-mgmt-server'),
    relay: mgmtRelay,
  },
  glooAgent: { enabled: false, insecure: false, image: image('gloo-mesh-agent'), relay: agentRelay },
  glooUi: { enabled: false, serviceType: 'ClusterIP', auth: uiAuth },
  rateLimiter: { enabled: false, redis: { enabled: true } },
  extAuthService: { enabled: false },
};

// The stores' own `deployment.enabled` has no documented default: unset, a store uses the shared Redis.
const STORE_DEFAULT = { client: { address: '' } };
const PLATFORM_25 = coalesce(PLATFORM_23, {
  redisStore: {
    snapshot: STORE_DEFAULT,
    insights: STORE_DEFAULT,
    extAuthService: STORE_DEFAULT,
    rateLimiter: STORE_DEFAULT,
  },
});

const ENTERPRISE_TOP = [
  'insecure',
  'devMode',
  'verbose',
  'leaderElection',
  'adminNamespace',
  'mgmtClusterName',
  'licenseKey',
  'prometheusUrl',
  'prometheus',
  'glooMeshMgmtServer',
  'glooMeshUi',
  'glooMeshRedis',
  'rbac-webhook',
  'glooMeshPortalServer',
  'legacyMetricsPipeline',
  'metricsBackend',
  'global',
];
const AGENT_TOP = [
  'insecure',
  'cluster',
  'verbose',
  'devMode',
  'leaderElection',
  'relay',
  'glooMeshAgent',
  'ext-auth-service',
  'rate-limiter',
  'istiodSidecar',
  'global',
  'managedInstallations',
  'glooMeshPortalServer',
  'metricsBackend',
  'legacyMetricsPipeline',
  'telemetryCollector',
  'telemetryCollectorCustomization',
  // Written in the vendor's 2.0-2.3 agent values (solo-io/gloo-mesh-use-cases helm-install/*/values-data-plane.yaml).
  'accessLogsBufferSize',
  'maxGrpcMessageSize',
  'metricsBufferSize',
];
/** Agent keys from 2.1 (solo-io/gloo-mesh-use-cases 2.1-2.3 values-data-plane.yaml). */
const AGENT_21_TOP = ['gloo-network-agent', 'sidecar-accel'];
/** Enterprise licence keys from 2.1 (solo-io/gloo-mesh-use-cases 2.1-2.3 values-mgmt-plane.yaml). */
const ENTERPRISE_21_TOP = [
  'registerMgmtPlane',
  'glooMeshLicenseKey',
  'glooGatewayLicenseKey',
  'glooNetworkLicenseKey',
  'glooTrialLicenseKey',
  'licenseSecretName',
];
const PLATFORM_TOP = [
  'common',
  'licensing',
  'glooMgmtServer',
  'glooAgent',
  'glooUi',
  'glooPortalServer',
  'glooNetwork',
  'redis',
  'prometheus',
  'telemetryCollector',
  'telemetryCollectorCustomization',
  'telemetryGateway',
  'telemetryGatewayCustomization',
  'extAuthService',
  'rateLimiter',
  'istioInstallations',
  'demo',
  'experimental',
  'featureGates',
  'installEnterpriseCrds',
  'global',
  'jaeger',
  'glooSpireServer',
  'postgresql',
  'glooAnalyzer',
  'glooInsightsEngine',
  'clickhouse',
  'redisStore',
  'glooSchedulerConfig',
  'kubernetes',
  'glooAgentCustomization',
];

const ENTERPRISE_FLAGS: FlagUses = {
  'prometheus.enabled': 'condition',
  'registerMgmtPlane.enabled': 'condition',
  'registerMgmtPlane.ext-auth-service.enabled': 'condition',
  'registerMgmtPlane.rate-limiter.enabled': 'condition',
};
const AGENT_FLAGS: FlagUses = {
  'ext-auth-service.enabled': 'condition',
  'rate-limiter.enabled': 'condition',
};
const PLATFORM_FLAGS: FlagUses = {
  'prometheus.enabled': 'condition',
  'extAuthService.enabled': 'condition',
  'rateLimiter.enabled': 'condition',
};

// Wording of solo-io/gloo-mesh-use-cases values files 2.0-2.3 (test/corpus/SOURCES.md).
const DEV_MODE = 'development mode, which can cause panics. Do not use in production.';
const ENTERPRISE_DEMO: ChartCatalog['demoKeys'] = [
  { path: 'devMode', quote: DEV_MODE, source: 'use-cases-2.0' },
];
const AGENT_21_DEMO = (prefix: string): ChartCatalog['demoKeys'] => [
  { path: `${prefix}devMode`, quote: DEV_MODE, source: 'use-cases-2.0' },
  {
    path: `${prefix}managedInstallations.enabled`,
    quote: 'Do not use in production',
    source: 'use-cases-2.0',
  },
  { path: `${prefix}sidecar-accel.enabled`, quote: 'Do not use in production', source: 'use-cases-2.0' },
];
const ENTERPRISE_22_DEMO: ChartCatalog['demoKeys'] = [
  ...ENTERPRISE_DEMO,
  {
    path: 'glooMeshMgmtServer.enableClusterLoadBalancing',
    quote: 'Experimental; do not use in production.',
    source: 'use-cases-2.0',
  },
  ...AGENT_21_DEMO('registerMgmtPlane.'),
];
const ENTERPRISE_21_CREDENTIALS = [
  'glooMeshLicenseKey',
  'glooGatewayLicenseKey',
  'glooNetworkLicenseKey',
  'glooTrialLicenseKey',
  'licenseKey',
].map((path) => ({ path, instead: 'licenseSecretName' }));
const PLATFORM_DEMO = [
  { path: 'common.devMode', quote: 'Do not use in production', source: 'helm-ref-platform' },
  { path: 'demo', quote: 'Do not use in production', source: 'helm-ref-platform' },
  { path: 'experimental', quote: 'Do not use in production', source: 'helm-ref-platform' },
];

// Exporter passwords: the vendor's portal values (solo-io/gloo-mesh-use-cases portal 2.4-2.6) write
// `password: "${env:CLICKHOUSE_PASSWORD}"` and set that variable from a Secret in telemetryGateway.extraEnvs.
const EXPORTER_INSTEAD =
  '"${env:NAME}" with NAME set from a Secret (valueFrom.secretKeyRef) in the same component\'s extraEnvs';
// API-key storage hashes keys with `secretKey`; the vendor's values write "Replace with a random string"
// next to the example "ThisIsSecret", and no Secret reference for it is documented.
const HASH_KEY_INSTEAD = 'a random value of your own (the example value is published by the vendor)';
const PUBLISHED_HASH_KEYS = ['ThisIsSecret'];

const PLATFORM_CREDENTIALS: readonly CredentialKey[] = [
  { path: 'licensing.glooMeshLicenseKey', instead: 'licensing.licenseSecretName' },
  { path: 'licensing.glooGatewayLicenseKey', instead: 'licensing.licenseSecretName' },
  { path: 'licensing.glooNetworkLicenseKey', instead: 'licensing.licenseSecretName' },
  { path: 'licensing.glooTrialLicenseKey', instead: 'licensing.licenseSecretName' },
  { path: 'licensing.licenseKey', instead: 'licensing.licenseSecretName' },
  ...['telemetryCollectorCustomization', 'telemetryGatewayCustomization'].map((c) => ({
    path: `${c}.extraExporters.*.password`,
    instead: EXPORTER_INSTEAD,
    collectorEnv: true,
  })),
  // The SPIRE server's PostgreSQL (2.9 workshops) takes Bitnami's keys: auth.password or auth.existingSecret.
  {
    path: 'postgresql.global.postgresql.auth.password',
    instead: 'postgresql.global.postgresql.auth.existingSecret',
  },
  ...[
    'extAuthService.extAuth.apiKeyStorage.secretKey',
    'glooPortalServer.apiKeyStorage.secretKey',
    'redisStore.extAuthService.client.secretKey',
  ].map((path) => ({ path, instead: HASH_KEY_INSTEAD, publishedValues: PUBLISHED_HASH_KEYS })),
];

const STORES = [
  { store: 'snapshot', role: 'management' },
  { store: 'insights', role: 'management' },
  { store: 'extAuthService', role: 'addons' },
  { store: 'rateLimiter', role: 'addons' },
] as const;

function entry(
  family: ChartFamily,
  minor: string,
  parts: Omit<
    ChartCatalog,
    'family' | 'minor' | 'credentialKeys' | 'redisStores' | 'uiPrometheusUrl' | 'relayOptions'
  > &
    Partial<Pick<ChartCatalog, 'credentialKeys' | 'redisStores' | 'uiPrometheusUrl' | 'relayOptions'>>,
): ChartCatalog {
  return {
    family,
    minor,
    credentialKeys: [],
    redisStores: [],
    uiPrometheusUrl: false,
    relayOptions: relayOptions('prod-practices-2.0'),
    ...parts,
  };
}

const enterprise = (
  minor: string,
  defaults: Record<string, unknown>,
  extraTop: string[] = [],
): ChartCatalog =>
  entry('gloo-mesh-enterprise', minor, {
    defaults,
    topLevelKeys: [...ENTERPRISE_TOP, ...extraTop],
    flags: ENTERPRISE_FLAGS,
    demoKeys: minor === '2.0' ? ENTERPRISE_DEMO : ENTERPRISE_22_DEMO,
    credentialKeys: minor === '2.0' ? [] : ENTERPRISE_21_CREDENTIALS,
    sources: [
      'helm-ref-2.0',
      'use-cases-2.0',
      'prod-practices-2.0',
      ...(minor === '2.0' ? [] : ['helm-ref-2.2']),
    ],
  });

const agentChart = (minor: string): ChartCatalog =>
  entry('gloo-mesh-agent', minor, {
    defaults: AGENT_DEFAULTS,
    topLevelKeys: minor === '2.0' ? AGENT_TOP : [...AGENT_TOP, ...AGENT_21_TOP],
    flags: AGENT_FLAGS,
    demoKeys: minor === '2.0' ? [ENTERPRISE_DEMO[0]!] : AGENT_21_DEMO(''),
    sources: ['helm-ref-2.0', 'use-cases-2.0'],
  });

const platform = (minor: number): ChartCatalog =>
  entry('gloo-platform', `2.${minor}`, {
    defaults: minor >= 5 ? PLATFORM_25 : PLATFORM_23,
    topLevelKeys: PLATFORM_TOP,
    flags: PLATFORM_FLAGS,
    demoKeys: PLATFORM_DEMO,
    credentialKeys: PLATFORM_CREDENTIALS,
    redisStores: minor >= 5 ? STORES : [],
    uiPrometheusUrl: true,
    relayOptions: minor >= 5 ? relayOptions('relay-options-2.5', true) : relayOptions('relay-options-2.3'),
    sources: [
      'helm-ref-platform',
      'day-2-workshop',
      minor >= 5 ? 'relay-options-2.5' : 'relay-options-2.3',
      ...(minor >= 5 ? ['byo-redis-2.6'] : []),
      'golden-values',
    ],
  });

/** Every catalog entry, oldest first within a family. */
export const CATALOG: readonly ChartCatalog[] = [
  enterprise('2.0', ENTERPRISE_20),
  enterprise('2.1', ENTERPRISE_21, ENTERPRISE_21_TOP),
  enterprise('2.2', ENTERPRISE_22, [...ENTERPRISE_21_TOP, 'managedInstallations', 'telemetryCollector']),
  agentChart('2.0'),
  agentChart('2.1'),
  agentChart('2.2'),
  ...[3, 4, 5, 6, 7, 8, 9].map(platform),
];

function minorOf(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The catalog entry that judges a chart version, and a note when the version is newer than it. */
export function catalogFor(family: ChartFamily, version: string): { catalog: ChartCatalog; note?: string } {
  const entries = CATALOG.filter((c) => c.family === family);
  const newest = entries[entries.length - 1]!;
  const mm = minorOf(version);
  if (!mm) return { catalog: newest };
  const exact = entries.find((c) => c.minor === `${mm[0]}.${mm[1]}`);
  if (exact) return { catalog: exact };
  const [nmaj, nmin] = minorOf(newest.minor)!;
  if (mm[0] > nmaj || (mm[0] === nmaj && mm[1] > nmin)) {
    return {
      catalog: newest,
      note: `chart ${family} ${version} is newer than gloo-guard's catalog; judged with the keys and defaults of ${newest.minor}`,
    };
  }
  return { catalog: entries[0]! };
}

/** The families whose catalogs know a top-level key, for "this key belongs to another chart". */
export function familiesKnowing(key: string): ChartFamily[] {
  return [...new Set(CATALOG.filter((c) => c.topLevelKeys.includes(key)).map((c) => c.family))];
}

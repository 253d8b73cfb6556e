/**
 * Chart defaults gloo-guard assumes when it judges a values file alone, from the vendor's Helm
 * references (see shared/reference/gloo-mesh-facts.md). Only keys that policies read are listed.
 * For gloo-platform, `prometheus.enabled` and `redis.deployment.enabled` have no documented
 * default; like the 2.0 charts, we assume `true`.
 */
import type { ChartFamily } from '../types.js';

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

const image = (repository: string): Record<string, unknown> => ({
  registry: 'gcr.io/gloo-mesh',
  repository,
  tag: '',
  pullPolicy: 'IfNotPresent',
});

/** Defaults of each chart family, as Helm would load them from the chart's values.yaml. */
export const CHART_DEFAULTS: Readonly<Record<ChartFamily, Record<string, unknown>>> = {
  'gloo-mesh-enterprise': {
    insecure: false,
    devMode: false,
    leaderElection: true,
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
    glooMeshUi: {
      enabled: true,
      serviceType: 'ClusterIP',
      image: image('gloo-mesh-apiserver'),
      auth: uiAuth,
    },
    glooMeshRedis: { enabled: true, addr: '', serviceType: 'ClusterIP' },
  },
  'gloo-mesh-agent': {
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
    'rate-limiter': { enabled: false },
  },
  'gloo-platform': {
    common: {
      insecure: false,
      cluster: '',
      prometheusUrl: 'http://prometheus-server',
      addonNamespace: 'gloo-mesh-addons',
    },
    licensing: { glooMeshLicenseKey: '' },
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
    glooAgent: {
      enabled: false,
      insecure: false,
      image: image('gloo-mesh-agent'),
      relay: agentRelay,
    },
    glooUi: { enabled: false, serviceType: 'ClusterIP', auth: uiAuth },
    rateLimiter: { enabled: false },
    extAuthService: { enabled: false },
  },
};

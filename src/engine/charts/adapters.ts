/** Chart adapters: turn each chart family's Helm values into the one GlooModel policies read. */
import type {
  AgentModel,
  ChartFamily,
  GlooModel,
  ImageModel,
  MgmtServerModel,
  Setting,
  UiModel,
} from '../types.js';
import { getPath, isTrue } from '../values.js';

type Read = <T = unknown>(path: string) => Setting<T>;

function reader(values: Record<string, unknown>): Read {
  return <T>(path: string): Setting<T> => ({ value: getPath(values, path) as T, path });
}

function flag(read: Read, path: string): Setting<boolean> {
  const s = read(path);
  return { value: isTrue(s.value), path };
}

/** An empty image tag means the chart version, as the Gloo Mesh charts render it. */
function imageOf(read: Read, prefix: string, chartVersion: string): ImageModel {
  const tag = read<unknown>(`${prefix}.image.tag`);
  const value =
    typeof tag.value === 'string' && tag.value !== '' ? tag.value : chartVersion.replace(/^v/, '');
  return { tag: { value, path: tag.path }, repository: read<string>(`${prefix}.image.repository`) };
}

function mgmtServer(read: Read, prefix: string, version: string, registers: string[]): MgmtServerModel {
  return {
    enabled: flag(read, `${prefix}.enabled`),
    prefix,
    image: imageOf(read, prefix, version),
    serviceType: read(`${prefix}.serviceType`),
    serviceOverrides: read(`${prefix}.serviceOverrides`),
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    relay: {
      disableCa: read(`${prefix}.relay.disableCa`),
      disableCaCertGeneration: read(`${prefix}.relay.disableCaCertGeneration`),
      tlsSecretName: read(`${prefix}.relay.tlsSecret.name`),
      signingTlsSecretName: read(`${prefix}.relay.signingTlsSecret.name`),
    },
    registersItself: registers.map((p) => flag(read, p)),
  };
}

function agent(read: Read, prefix: string, relayPrefix: string, version: string): AgentModel {
  return {
    enabled: flag(read, `${prefix}.enabled`),
    prefix,
    image: imageOf(read, prefix, version),
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    relay: {
      serverAddress: read(`${relayPrefix}.serverAddress`),
      clientTlsSecretName: read(`${relayPrefix}.clientTlsSecret.name`),
      rootTlsSecretName: read(`${relayPrefix}.rootTlsSecret.name`),
    },
  };
}

function ui(read: Read, prefix: string): UiModel {
  const a = `${prefix}.auth`;
  return {
    enabled: flag(read, `${prefix}.enabled`),
    prefix,
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    auth: {
      enabled: read(`${a}.enabled`),
      backend: read(`${a}.backend`),
      issuerUrl: read(`${a}.oidc.issuerUrl`),
      clientId: read(`${a}.oidc.clientId`),
      appUrl: read(`${a}.oidc.appUrl`),
      clientSecret: read(`${a}.oidc.clientSecret`),
      clientSecretName: read(`${a}.oidc.clientSecretName`),
    },
  };
}

function withRoles(model: Omit<GlooModel, 'roles'>): GlooModel {
  const management = model.mgmtServer?.enabled.value ?? false;
  const registers = model.mgmtServer?.registersItself.some((s) => s.value) ?? false;
  return {
    ...model,
    roles: {
      management,
      agent: (model.agent?.enabled.value ?? false) || (management && registers),
      addons: model.addons.some((s) => s.value),
    },
  };
}

function enterprise(read: Read, version: string): GlooModel {
  return withRoles({
    insecure: [flag(read, 'insecure')],
    mgmtServer: mgmtServer(read, 'glooMeshMgmtServer', version, ['registerMgmtPlane.enabled']),
    ui: ui(read, 'glooMeshUi'),
    redis: {
      enabled: flag(read, 'glooMeshRedis.enabled'),
      deploymentOverrides: read('glooMeshRedis.deploymentOverrides'),
    },
    prometheus: { enabled: flag(read, 'prometheus.enabled'), url: read('prometheusUrl') },
    addons: [],
  });
}

function agentChart(read: Read, version: string): GlooModel {
  return withRoles({
    insecure: [flag(read, 'insecure')],
    agent: agent(read, 'glooMeshAgent', 'relay', version),
    addons: [flag(read, 'rate-limiter.enabled'), flag(read, 'ext-auth-service.enabled')],
  });
}

function platform(read: Read, version: string): GlooModel {
  return withRoles({
    insecure: ['common.insecure', 'glooMgmtServer.insecure', 'glooAgent.insecure'].map((p) => flag(read, p)),
    mgmtServer: mgmtServer(read, 'glooMgmtServer', version, ['glooMgmtServer.registerCluster']),
    agent: agent(read, 'glooAgent', 'glooAgent.relay', version),
    ui: ui(read, 'glooUi'),
    redis: {
      enabled: flag(read, 'redis.deployment.enabled'),
      deploymentOverrides: read('redis.deployment.deploymentOverrides'),
    },
    prometheus: { enabled: flag(read, 'prometheus.enabled'), url: read('common.prometheusUrl') },
    addons: [flag(read, 'rateLimiter.enabled'), flag(read, 'extAuthService.enabled')],
  });
}

/** Builds the model of a release from its effective values. */
export function buildModel(
  family: ChartFamily,
  values: Record<string, unknown>,
  chartVersion: string,
): GlooModel {
  const read = reader(values);
  switch (family) {
    case 'gloo-mesh-enterprise':
      return enterprise(read, chartVersion);
    case 'gloo-mesh-agent':
      return agentChart(read, chartVersion);
    case 'gloo-platform':
      return platform(read, chartVersion);
  }
}

/** Parses `2.3.1`, `v2.0.11`, `2.4.0-beta1` into [major, minor]; undefined when it is no version. */
export function majorMinor(version: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * The family of a chart, or undefined when gloo-guard does not judge it: other charts, the 1.x
 * Gloo Mesh charts (other keys), and gloo-platform before 2.3. An empty version (values checked
 * with `--chart` alone) is taken as supported.
 */
export function chartFamily(name: string, version: string): ChartFamily | undefined {
  if (name !== 'gloo-mesh-enterprise' && name !== 'gloo-mesh-agent' && name !== 'gloo-platform')
    return undefined;
  if (version === '') return name;
  const mm = majorMinor(version);
  if (!mm) return undefined;
  const [major, minor] = mm;
  if (name === 'gloo-platform') return major > 2 || (major === 2 && minor >= 3) ? name : undefined;
  return major === 2 ? name : undefined;
}

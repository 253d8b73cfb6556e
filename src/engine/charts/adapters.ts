/** Chart adapters: turn each chart family's Helm values into the one GlooModel policies read. */
import { parseGoBool, readFlag, templateTruthy } from '../helm-values.js';
import type {
  AgentModel,
  ChartFamily,
  Flag,
  GlooModel,
  ImageModel,
  MgmtServerModel,
  RedisStoreModel,
  SecretRef,
  Setting,
  UiModel,
} from '../types.js';
import { getPath, isObject } from '../values.js';
import { catalogFor, familiesKnowing, type ChartCatalog, type RelayOption } from './catalog.js';
import { envEntries } from './env.js';

interface Read {
  <T = unknown>(path: string): Setting<T>;
  flag(path: string): Flag;
}

/**
 * What a release says of its chart: its own values, and the subcharts Helm deployed (the stored
 * metadata lists only the dependencies it left enabled, by key and condition; empty when there is
 * no list).
 */
interface StoredChart {
  values: Record<string, unknown>;
  deployed: ReadonlyArray<{ key: string; condition: string }>;
}

/**
 * Whether the subchart a top-level condition (`prometheus.enabled`) switches was deployed, when the
 * release's stored dependency list says so: Helm decided with the subchart's own defaults, which a
 * release does not store. A dependency listed under that key or with that condition was deployed.
 */
function storedDecision(path: string, chart: StoredChart): boolean | undefined {
  const keys = path.split('.');
  if (chart.deployed.length === 0 || keys.length !== 2) return undefined;
  return chart.deployed.some((d) => d.key === keys[0] || d.condition.trim().split(',').includes(path));
}

function reader(values: Record<string, unknown>, cat: ChartCatalog, chart: StoredChart): Read {
  const read = <T>(path: string): Setting<T> => ({ value: getPath(values, path) as T, path });
  return Object.assign(read, {
    flag(path: string): Flag {
      const raw = getPath(values, path);
      const use = cat.flags[path] ?? 'unknown';
      // A condition's subchart exists when the chart's values hold its table (`prometheus` for `prometheus.enabled`).
      const subchart = isObject(getPath(chart.values, path.slice(0, Math.max(0, path.lastIndexOf('.')))));
      const r = readFlag(raw, use, subchart);
      const stored = use === 'condition' ? storedDecision(path, chart) : undefined;
      const on = stored ?? r.on;
      return { value: on, path, raw, ambiguous: r.ambiguous, reading: r.reading };
    },
  });
}

/** A switch that only counts when its parent switch is on (a subchart of a subchart). */
function under(parent: Flag, child: Flag): Flag {
  return { ...child, value: parent.value && child.value, ambiguous: parent.value && child.ambiguous };
}

/** An empty image tag means the chart version, as the Gloo Mesh charts render it. */
function imageOf(read: Read, prefix: string, chartVersion: string): ImageModel {
  const tag = read<unknown>(`${prefix}.image.tag`);
  const value =
    typeof tag.value === 'string' && tag.value !== '' ? tag.value : chartVersion.replace(/^v/, '');
  return { tag: { value, path: tag.path }, repository: read<string>(`${prefix}.image.repository`) };
}

function secretRef(read: Read, path: string): SecretRef {
  return { name: read(`${path}.name`), namespace: read(`${path}.namespace`) };
}

function mgmtServer(read: Read, prefix: string, version: string, registers: Flag[]): MgmtServerModel {
  const tlsSecret = secretRef(read, `${prefix}.relay.tlsSecret`);
  const signingTlsSecret = secretRef(read, `${prefix}.relay.signingTlsSecret`);
  return {
    enabled: read.flag(`${prefix}.enabled`),
    prefix,
    image: imageOf(read, prefix, version),
    serviceType: read(`${prefix}.serviceType`),
    serviceOverrides: read(`${prefix}.serviceOverrides`),
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    relay: {
      disableCa: read.flag(`${prefix}.relay.disableCa`),
      disableCaCertGeneration: read.flag(`${prefix}.relay.disableCaCertGeneration`),
      tlsSecretName: tlsSecret.name,
      signingTlsSecretName: signingTlsSecret.name,
      tlsSecret,
      signingTlsSecret,
    },
    registersItself: registers,
    extraEnvs: read(`${prefix}.extraEnvs`),
  };
}

function agent(read: Read, prefix: string, relayPrefix: string, version: string): AgentModel {
  const clientTlsSecret = secretRef(read, `${relayPrefix}.clientTlsSecret`);
  const rootTlsSecret = secretRef(read, `${relayPrefix}.rootTlsSecret`);
  return {
    enabled: read.flag(`${prefix}.enabled`),
    prefix,
    image: imageOf(read, prefix, version),
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    relay: {
      serverAddress: read(`${relayPrefix}.serverAddress`),
      clientTlsSecretName: clientTlsSecret.name,
      rootTlsSecretName: rootTlsSecret.name,
      clientTlsSecret,
      rootTlsSecret,
      tokenSecret: secretRef(read, `${relayPrefix}.tokenSecret`),
    },
    extraEnvs: read(`${prefix}.extraEnvs`),
  };
}

function ui(read: Read, prefix: string): UiModel {
  const a = `${prefix}.auth`;
  return {
    enabled: read.flag(`${prefix}.enabled`),
    prefix,
    deploymentOverrides: read(`${prefix}.deploymentOverrides`),
    auth: {
      enabled: read.flag(`${a}.enabled`),
      backend: read(`${a}.backend`),
      issuerUrl: read(`${a}.oidc.issuerUrl`),
      clientId: read(`${a}.oidc.clientId`),
      appUrl: read(`${a}.oidc.appUrl`),
      clientSecret: read(`${a}.oidc.clientSecret`),
      clientSecretName: read(`${a}.oidc.clientSecretName`),
    },
  };
}

/** Leaves under a key that a template would take as set (`experimental.foo: true`), with their paths. */
function setLeaves(value: unknown, path: string): Setting<unknown>[] {
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => setLeaves(v, `${path}.${k}`));
  return templateTruthy(value) ? [{ value, path }] : [];
}

/** The concrete paths of a catalog path whose `*` segments stand for any one key. */
function expand(values: Record<string, unknown>, path: string): string[] {
  const star = path.indexOf('.*');
  if (star < 0) return [path];
  const parent = getPath(values, path.slice(0, star));
  if (!isObject(parent)) return [];
  const rest = path.slice(star + 2);
  return Object.keys(parent).flatMap((k) => expand(values, `${path.slice(0, star)}.${k}${rest}`));
}

const COLLECTOR_ENV = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;

/** Credentials written inline: a non-empty string, minus references the consumer resolves itself. */
function inlineCredentials(
  read: Read,
  cat: ChartCatalog,
  values: Record<string, unknown>,
): GlooModel['credentials'] {
  return cat.credentialKeys.flatMap((c) =>
    expand(values, c.path).flatMap((path) => {
      const setting = read(path);
      const v = setting.value;
      if (typeof v !== 'string' || v.trim() === '') return [];
      if (c.collectorEnv && COLLECTOR_ENV.test(v.trim())) return [];
      if (c.publishedValues)
        return c.publishedValues.includes(v) ? [{ setting, instead: c.instead, published: true }] : [];
      return [{ setting, instead: c.instead }];
    }),
  );
}

/** The management server's env switch that turns relay mTLS into simple TLS (token only). */
export const SIMPLE_TLS_SWITCH = 'RELAY_DISABLE_CLIENT_CERTIFICATE_AUTHENTICATION';

/**
 * The relay option the server's switches select. Versions without simple TLS rows (before 2.5) fall back
 * to the mTLS row of the same CA switches: the CA behaves the same, and no-insecure-relay judges the switch.
 */
function relayOptionOf(cat: ChartCatalog, mgmt: MgmtServerModel | undefined): RelayOption | undefined {
  if (!mgmt) return undefined;
  const simple = envEntries(mgmt.extraEnvs.value, mgmt.extraEnvs.path).some(
    (e) => e.name === SIMPLE_TLS_SWITCH && parseGoBool(e.value) === true,
  );
  const same = (o: RelayOption): boolean =>
    o.disableCa === mgmt.relay.disableCa.value &&
    o.disableCaCertGeneration === mgmt.relay.disableCaCertGeneration.value;
  return (
    cat.relayOptions.find((o) => same(o) && o.clientCertificates !== simple) ??
    cat.relayOptions.find((o) => same(o) && o.clientCertificates)
  );
}

type Parts = Omit<
  GlooModel,
  'roles' | 'demoSettings' | 'credentials' | 'unknownKeys' | 'catalog' | 'relayOption'
>;

function withCatalog(
  read: Read,
  cat: ChartCatalog,
  userValues: Record<string, unknown>,
  model: Parts,
): GlooModel {
  const management = model.mgmtServer?.enabled.value ?? false;
  const registers = model.mgmtServer?.registersItself.some((s) => s.value) ?? false;
  const option = relayOptionOf(cat, model.mgmtServer);
  return {
    ...model,
    catalog: `${cat.family} ${cat.minor}`,
    ...(option
      ? {
          relayOption: {
            title: option.title,
            environment: option.environment,
            source: option.source,
            selfSigned: option.selfSigned,
            simpleTls: !option.clientCertificates,
            ...(option.assumed ? { assumed: option.assumed } : {}),
          },
        }
      : {}),
    demoSettings: cat.demoKeys.flatMap((d) =>
      setLeaves(read(d.path).value, d.path).map((setting) => ({ setting, quote: d.quote })),
    ),
    credentials: inlineCredentials(read, cat, userValues),
    unknownKeys: Object.keys(userValues)
      .filter((k) => !cat.topLevelKeys.includes(k))
      .map((key) => ({ key, belongsTo: familiesKnowing(key) })),
    roles: {
      management,
      agent: (model.agent?.enabled.value ?? false) || (management && registers),
      addons: model.addons.some((s) => s.value),
    },
  };
}

/**
 * The add-ons Redis before per-store Redis: the rate limiter subchart deploys `redis` in the add-ons
 * namespace (its `redis.enabled`), and ext-auth keeps its API keys there too, so it serves both stores.
 */
function addonsRedis(read: Read, rateLimiter: string, extAuth: string, parent?: Flag): RedisStoreModel[] {
  const on = (f: Flag): Flag => (parent ? under(parent, f) : f);
  const limiter = on(read.flag(`${rateLimiter}.enabled`));
  const bundled = under(limiter, read.flag(`${rateLimiter}.redis.enabled`));
  const ext = on(read.flag(`${extAuth}.enabled`));
  return [
    { store: 'rateLimiter', role: 'addons', bundled },
    ...(ext.value ? [{ store: 'extAuthService', role: 'addons' as const, bundled }] : []),
  ];
}

function enterprise(read: Read, version: string): Parts {
  const register = read.flag('registerMgmtPlane.enabled');
  const redis = read.flag('glooMeshRedis.enabled');
  return {
    insecure: [read.flag('insecure'), under(register, read.flag('registerMgmtPlane.insecure'))],
    mgmtServer: mgmtServer(read, 'glooMeshMgmtServer', version, [register]),
    ui: ui(read, 'glooMeshUi'),
    redis: {
      enabled: redis,
      deploymentOverrides: read('glooMeshRedis.deploymentOverrides'),
      stores: [
        { store: 'gloo-mesh-redis', role: 'management', bundled: redis, address: read('glooMeshRedis.addr') },
        ...addonsRedis(
          read,
          'registerMgmtPlane.rate-limiter',
          'registerMgmtPlane.ext-auth-service',
          register,
        ),
      ],
    },
    prometheus: { enabled: read.flag('prometheus.enabled'), url: read('prometheusUrl') },
    addons: [
      under(register, read.flag('registerMgmtPlane.ext-auth-service.enabled')),
      under(register, read.flag('registerMgmtPlane.rate-limiter.enabled')),
    ],
  };
}

function agentChart(read: Read, version: string): Parts {
  const stores = addonsRedis(read, 'rate-limiter', 'ext-auth-service');
  return {
    insecure: [read.flag('insecure')],
    agent: agent(read, 'glooMeshAgent', 'relay', version),
    redis: {
      enabled: stores[0]!.bundled,
      deploymentOverrides: read('rate-limiter.redis.deploymentOverrides'),
      stores,
    },
    addons: [read.flag('rate-limiter.enabled'), read.flag('ext-auth-service.enabled')],
  };
}

function platformStores(read: Read, cat: ChartCatalog, shared: Flag): RedisStoreModel[] {
  if (cat.redisStores.length === 0) {
    return [
      { store: 'gloo-mesh-redis', role: 'management', bundled: shared, address: read('redis.address') },
      ...addonsRedis(read, 'rateLimiter', 'extAuthService'),
    ];
  }
  return cat.redisStores.map(({ store, role }) => {
    const own = read.flag(`redisStore.${store}.deployment.enabled`);
    return {
      store,
      role,
      bundled: own.raw === undefined ? shared : own,
      address: read(`redisStore.${store}.client.address`),
    };
  });
}

function platform(read: Read, version: string, cat: ChartCatalog): Parts {
  const shared = read.flag('redis.deployment.enabled');
  return {
    insecure: ['common.insecure', 'glooMgmtServer.insecure', 'glooAgent.insecure'].map((p) => read.flag(p)),
    mgmtServer: mgmtServer(read, 'glooMgmtServer', version, [read.flag('glooMgmtServer.registerCluster')]),
    agent: agent(read, 'glooAgent', 'glooAgent.relay', version),
    ui: ui(read, 'glooUi'),
    redis: {
      enabled: shared,
      deploymentOverrides: read('redis.deployment.deploymentOverrides'),
      stores: platformStores(read, cat, shared),
    },
    prometheus: {
      enabled: read.flag('prometheus.enabled'),
      url: read('common.prometheusUrl'),
      ...(cat.uiPrometheusUrl ? { uiUrl: read('glooUi.prometheusUrl') } : {}),
    },
    addons: [read.flag('rateLimiter.enabled'), read.flag('extAuthService.enabled')],
  };
}

/**
 * Builds the model of a release from its effective values (and the user's, for unknown keys; and
 * the chart's own values and, for a release, the subcharts Helm deployed).
 */
export function buildModel(
  family: ChartFamily,
  values: Record<string, unknown>,
  chartVersion: string,
  userValues: Record<string, unknown> = values,
  chart: StoredChart = { values, deployed: [] },
): GlooModel {
  const { catalog } = catalogFor(family, chartVersion);
  const read = reader(values, catalog, chart);
  const parts =
    family === 'gloo-mesh-enterprise'
      ? enterprise(read, chartVersion)
      : family === 'gloo-mesh-agent'
        ? agentChart(read, chartVersion)
        : platform(read, chartVersion, catalog);
  return withCatalog(read, catalog, userValues, parts);
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

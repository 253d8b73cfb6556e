/** The audit: judge what already runs in a cluster with the same engine and config as the webhook. */
import type { Config } from '../config/types.js';
import { evaluate, type EvaluateOptions, type EvaluationResult } from '../engine/evaluate.js';
import { valuesFromRefs } from '../engine/carriers/flux.js';
import {
  carrierRef,
  objectData,
  prefetch,
  type CarrierContext,
  type DataReader,
} from '../engine/carriers/context.js';
import { anyPolicyMatches, type MatchTarget } from '../engine/match.js';
import { clusterView } from '../engine/cluster-view.js';
import { readObject } from '../engine/subjects.js';
import type {
  ClusterView,
  ObjectRef,
  Policy,
  ReleaseSubject,
  Subject,
  SubjectKind,
} from '../engine/types.js';
import { catalogOf } from '../rules/catalog.js';
import { isObject, isSet } from '../engine/values.js';
import { NotReadable, type ClusterSource } from '../k8s/source.js';

/** A Kubernetes object a result is about, for PolicyReports. */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** One judged object with its result. */
export interface AuditedObject {
  resource: ResourceRef;
  result: EvaluationResult;
}

/** The role a cluster plays in Gloo Mesh, as far as the audit can tell. */
export type ClusterRole = 'management' | 'workload' | 'management+workload' | 'none';

/** A Gloo Mesh release seen in the cluster, summarised for cross-cluster checks. */
export interface ReleaseSummary {
  name: string;
  namespace: string;
  chart: string;
  roles: ReleaseSubject['model']['roles'];
  relayServerAddress?: string;
}

/** What the audit found in one cluster. */
export interface ClusterAudit {
  cluster: string;
  role: ClusterRole;
  objects: AuditedObject[];
  errors: Array<{ source: string; message: string }>;
  /** Lists the audit could not read (an API not served, or not allowed): said, never skipped silently. */
  unread: Array<{ source: string; message: string; forbidden: boolean; crd: string; namespace: string }>;
  releases: ReleaseSummary[];
  /** Addresses at which this cluster's management server can be reached (Service names, LB addresses). */
  mgmtAddresses: string[];
  counts: { namespaces: number; deployments: number; releases: number };
}

/** Progress callback: a short line now and then while listing a large cluster. */
export type Progress = (line: string) => void;

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The newest revision of each release, from Secret labels alone. */
export function latestRevisions(refs: ObjectRef[]): ObjectRef[] {
  const latest = new Map<string, ObjectRef>();
  for (const r of refs) {
    const key = `${r.namespace}/${r.labels.name ?? r.name}`;
    const prev = latest.get(key);
    if (!prev || Number(r.labels.version ?? 0) > Number(prev.labels.version ?? 0)) latest.set(key, r);
  }
  return [...latest.values()];
}

function refOf(obj: unknown, fallbackKind: string): ResourceRef {
  const o = obj as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string; uid?: string };
  };
  const md = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion ?? 'v1',
    kind: o.kind ?? fallbackKind,
    name: md.name ?? '',
    ...(md.namespace ? { namespace: md.namespace } : {}),
    ...(md.uid ? { uid: md.uid } : {}),
  };
}

function summarize(s: ReleaseSubject): ReleaseSummary {
  const addr = s.model.agent?.relay.serverAddress.value;
  return {
    name: s.release.name,
    namespace: s.release.namespace ?? '',
    chart: s.chart.name,
    roles: s.model.roles,
    ...(isSet(addr) ? { relayServerAddress: addr } : {}),
  };
}

function roleOf(deployments: ObjectRef[], releases: ReleaseSummary[]): ClusterRole {
  const mgmt =
    deployments.some((d) => d.name === 'gloo-mesh-mgmt-server') || releases.some((r) => r.roles.management);
  const agent = deployments.some((d) => d.name === 'gloo-mesh-agent') || releases.some((r) => r.roles.agent);
  if (mgmt && agent) return 'management+workload';
  return mgmt ? 'management' : agent ? 'workload' : 'none';
}

/** What the audit read of a cluster for the view. */
interface ClusterFacts {
  namespaces: Map<string, Record<string, string>>;
  deployments: ObjectRef[];
  /** `namespace/name` of Secrets known to exist... */
  secrets: Set<string>;
  /** ...in these namespaces; elsewhere whether a Secret exists is not known. */
  secretNamespaces: Set<string>;
}

/** The ClusterView policies read, over the audit's facts. */
function viewOf(facts: ClusterFacts): ClusterView {
  return clusterView({
    namespaceLabels: (name) => facts.namespaces.get(name),
    deployments: () => facts.deployments,
    secretKnown: (namespace, name) =>
      facts.secretNamespaces.has(namespace) ? facts.secrets.has(`${namespace}/${name}`) : undefined,
  });
}

/** Reads a cluster's facts (namespaces, Deployment refs) for the view; metadata only. */
async function readFacts(src: ClusterSource, progress: Progress): Promise<ClusterFacts> {
  const namespaces = new Map<string, Record<string, string>>();
  for await (const ns of src.namespaces()) namespaces.set(ns.name, ns.labels);
  progress(`${src.name}: ${namespaces.size} namespaces`);
  const deployments = await collect(src.deploymentRefs());
  progress(`${src.name}: ${deployments.length} deployments`);
  return { namespaces, deployments, secrets: new Set(), secretNamespaces: new Set() };
}

/** Reads the Secret names of namespaces not read yet (names only, never data). */
async function learnSecrets(src: ClusterSource, facts: ClusterFacts, namespaces: string[]): Promise<void> {
  for (const ns of namespaces) {
    if (facts.secretNamespaces.has(ns) || !facts.namespaces.has(ns)) continue;
    for (const name of await src.secretNames(ns)) facts.secrets.add(`${ns}/${name}`);
    facts.secretNamespaces.add(ns);
  }
}

class Auditor {
  readonly audit: ClusterAudit;
  private readonly policies: readonly Policy[];
  constructor(
    private readonly config: Config,
    private readonly facts: ClusterFacts,
    cluster: string,
    private readonly opts: AuditOptions,
  ) {
    this.policies = opts.policies ?? catalogOf(config);
    this.audit = {
      cluster,
      role: 'none',
      objects: [],
      errors: [],
      unread: [],
      releases: [],
      mgmtAddresses: [],
      counts: { namespaces: facts.namespaces.size, deployments: 0, releases: 0 },
    };
  }

  /** Where Gloo Mesh's management plane runs, by the config. */
  get managementNamespace(): string {
    return this.config.namespaces.management;
  }

  /** True when a policy judges this object, so it is worth reading and judging. */
  judges(kind: SubjectKind, target: MatchTarget): boolean {
    return anyPolicyMatches(this.policies, kind, target, this.config.namespaces);
  }

  judge(obj: unknown, kind: string, location: string, ctx: CarrierContext = {}): Subject[] {
    const read = readObject(obj, { location }, this.config.limits.maxReleaseBytes, ctx);
    // Known but not judgeable here (an ApplicationSet, a chart in git): not an error of the cluster.
    if ('notJudged' in read) return [];
    if ('problem' in read) {
      this.audit.errors.push({ source: location, message: read.problem });
      return [];
    }
    for (const subject of read.subjects) {
      const result = evaluate(subject, this.config, {
        cluster: viewOf(this.facts),
        policies: this.policies,
        ...(this.opts.onPolicyError ? { onPolicyError: this.opts.onPolicyError } : {}),
      });
      this.audit.objects.push({ resource: refOf(obj, kind), result });
    }
    return read.subjects;
  }
}

/** The data of the ConfigMaps and Secrets a HelmRelease takes values from, read before it is judged. */
async function valuesFromLookup(src: ClusterSource, hr: unknown): Promise<CarrierContext> {
  if (!isObject(hr)) return {};
  const read: DataReader = async (kind, namespace, name) => {
    const obj = await (kind === 'Secret' ? src.secret(namespace, name) : src.configMap?.(namespace, name));
    return isObject(obj) ? objectData(obj, kind) : null;
  };
  // The audit may not be allowed to read a Secret outside the release namespaces: then it is named as unread.
  const why = (err: unknown): string => (err instanceof Error ? err.message : 'unknown error');
  return { lookup: await prefetch(valuesFromRefs(hr, carrierRef(hr)), read, why) };
}

/** Runs one list of the audit; a list the source could not read is recorded by name and reason. */
async function readable(a: Auditor, cluster: string, read: () => Promise<void>): Promise<void> {
  try {
    await read();
  } catch (err: unknown) {
    if (!(err instanceof NotReadable)) throw err;
    // Reported in the management namespace: where the Gloo Mesh it could not see would run.
    a.audit.unread.push({
      source: `${cluster}: ${err.what}`,
      message: err.message,
      forbidden: err.forbidden,
      crd: err.crd,
      namespace: a.managementNamespace,
    });
  }
}

/** Judges what GitOps tools and Helm's ConfigMap driver hold: Applications, HelmReleases, release ConfigMaps. */
async function auditCarriers(src: ClusterSource, a: Auditor): Promise<ReleaseSummary[]> {
  const releases: ReleaseSummary[] = [];
  const keep = (subjects: Subject[]): void => {
    for (const s of subjects) if (s.kind === 'release') releases.push(summarize(s));
  };
  if (src.releaseConfigMapRefs && src.configMap) {
    for (const ref of latestRevisions(await collect(src.releaseConfigMapRefs()))) {
      const cm = await src.configMap(ref.namespace, ref.name);
      if (cm !== undefined)
        keep(a.judge(cm, 'ConfigMap', `${src.name}/configmap ${ref.namespace}/${ref.name}`));
    }
  }
  await readable(a, src.name, async () => {
    for await (const app of src.applications?.() ?? [])
      keep(a.judge(app, 'Application', `${src.name}/application`));
  });
  await readable(a, src.name, async () => {
    for await (const hr of src.helmReleases?.() ?? [])
      keep(a.judge(hr, 'HelmRelease', `${src.name}/helmrelease`, await valuesFromLookup(src, hr)));
  });
  return releases;
}

/** What the audit needs besides the source and config. */
export interface AuditOptions {
  progress?: Progress;
  /** Told of a policy that threw, with the error (the report names only the policy). */
  onPolicyError?: EvaluateOptions['onPolicyError'];
  /** The policies judged (default: the config's catalog, built-ins and rules); the audit reads in full only what one of them matches. */
  policies?: readonly Policy[];
}

/** Judges the Namespaces some policy matches, from their metadata (labels are all a policy reads of them). */
function judgeNamespaces(a: Auditor, src: ClusterSource, facts: ClusterFacts): void {
  for (const [name, labels] of facts.namespaces) {
    if (!a.judges('namespace', { name, namespace: name, labels })) continue;
    a.judge(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
      'Namespace',
      `${src.name}/namespace`,
    );
  }
}

/**
 * Judges the Deployments some policy matches, each read whole by name: in a large cluster that is
 * a handful (the Gloo Mesh namespaces, istiod, the agent), not every Deployment again.
 */
async function judgeDeployments(
  a: Auditor,
  src: ClusterSource,
  facts: ClusterFacts,
  progress: Progress,
): Promise<void> {
  const wanted = facts.deployments.filter((d) => a.judges('deployment', d));
  progress(`${src.name}: ${wanted.length} of ${facts.deployments.length} deployments are judged by a policy`);
  for (const ref of wanted) {
    const d = await src.deployment(ref.namespace, ref.name);
    if (d)
      a.judge({ apiVersion: 'apps/v1', kind: 'Deployment', ...d }, 'Deployment', `${src.name}/deployment`);
  }
}

/** Audits one cluster: namespaces, Deployments, the management Service and the latest revision of each release. */
export async function auditCluster(
  src: ClusterSource,
  config: Config,
  opts: AuditOptions = {},
): Promise<ClusterAudit> {
  const progress = opts.progress ?? (() => undefined);
  const facts = await readFacts(src, progress);
  const a = new Auditor(config, facts, src.name, opts);
  judgeNamespaces(a, src, facts);
  await judgeDeployments(a, src, facts, progress);
  a.audit.counts.deployments = facts.deployments.length;
  const mgmtNs = config.namespaces.management;
  for await (const svc of src.services(mgmtNs)) {
    a.judge({ apiVersion: 'v1', kind: 'Service', ...svc }, 'Service', `${src.name}/service`);
    if (svc.metadata?.name === 'gloo-mesh-mgmt-server')
      a.audit.mgmtAddresses.push(...serviceAddresses(svc, mgmtNs));
  }
  const latest = latestRevisions(await collect(src.releaseSecretRefs()));
  progress(`${src.name}: ${latest.length} Helm releases`);
  // Relay certificate Secrets live beside their release: learn which exist before judging releases.
  await learnSecrets(src, facts, [...new Set(latest.map((r) => r.namespace))]);
  for (const ref of latest) {
    const secret = await src.secret(ref.namespace, ref.name);
    for (const subject of a.judge(secret, 'Secret', `${src.name}/secret ${ref.namespace}/${ref.name}`))
      if (subject.kind === 'release') a.audit.releases.push(summarize(subject));
  }
  // A Flux HelmRelease has a release Secret too: each release is summarised once.
  const seen = new Set(a.audit.releases.map((r) => `${r.namespace}/${r.name}`));
  for (const r of await auditCarriers(src, a))
    if (!seen.has(`${r.namespace}/${r.name}`)) a.audit.releases.push(r);
  a.audit.counts.releases = a.audit.releases.length;
  a.audit.role = roleOf(facts.deployments, a.audit.releases);
  return a.audit;
}

/** The addresses a relay agent may use to reach this management server Service. */
export function serviceAddresses(
  svc: {
    metadata?: { name?: string; annotations?: Record<string, string> };
    spec?: { externalIPs?: string[]; loadBalancerIP?: string };
    status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } };
  },
  namespace: string,
): string[] {
  const name = svc.metadata?.name ?? '';
  const out = [`${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
  for (const ing of svc.status?.loadBalancer?.ingress ?? [])
    out.push(...[ing.ip, ing.hostname].filter(isSet));
  out.push(...(svc.spec?.externalIPs ?? []));
  if (isSet(svc.spec?.loadBalancerIP)) out.push(svc.spec.loadBalancerIP);
  const dns = svc.metadata?.annotations?.['external-dns.alpha.kubernetes.io/hostname'];
  if (isSet(dns)) out.push(...dns.split(',').map((h) => h.trim()));
  return out;
}

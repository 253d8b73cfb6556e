/** Core types shared by the engine, the policies and every caller (webhook, CLI, audit). */
import type { V1Deployment, V1Namespace, V1Service } from '@kubernetes/client-node';

/** How serious a violation is; shown to users, never used to decide enforcement. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** What happens to a violation: refuse, report, or skip the policy. */
export type Action = 'deny' | 'warn' | 'off';

/** The chart families gloo-guard understands. */
export type ChartFamily = 'gloo-mesh-enterprise' | 'gloo-mesh-agent' | 'gloo-platform';

/** A value read from Helm values, with the dotted path it came from. */
export interface Setting<T> {
  value: T;
  path: string;
}

/**
 * A switch read as the chart consumes it (see engine/helm-values.ts): `value` is what Helm does,
 * `ambiguous` says Helm's readings of a non-boolean disagree, `reading` explains a non-boolean.
 */
export interface Flag extends Setting<boolean> {
  raw: unknown;
  ambiguous: boolean;
  reading: string;
}

/** A Secret reference in values: its name and the namespace the values give (if any). */
export interface SecretRef {
  name: Setting<unknown>;
  namespace: Setting<unknown>;
}

/** Where an object or release came from, for messages: a file, an AdmissionReview, a cluster. */
export interface SourceRef {
  /** e.g. `values.yaml`, `manifest.yaml#3`, `admission`, `cluster/prod` */
  location: string;
  /** The admission request the subject arrived in (webhook, or `check` of an AdmissionReview file). */
  admission?: AdmissionContext;
}

/** What rules see of an admission request, as a ValidatingAdmissionPolicy sees it. */
export interface AdmissionContext {
  /** `request` as ValidatingAdmissionPolicy defines it (kind, resource, name, userInfo, dryRun, ...). */
  request: Record<string, unknown>;
  /** The object before the change: set on UPDATE and DELETE, null on CREATE. */
  oldObject: unknown;
}

/** A Helm release of a Gloo Mesh chart, normalised by a chart adapter. */
export interface ReleaseSubject {
  kind: 'release';
  family: ChartFamily;
  /** The judged chart; `parent` is the umbrella chart it is a dependency of, when it is one. */
  chart: { name: string; version: string; parent?: { name: string; version: string } };
  release: { name: string; namespace?: string; revision?: number; status?: string };
  /** Effective values: chart defaults deep-merged with the user's values, as Helm does. */
  values: Record<string, unknown>;
  /** Only the values the user supplied (Helm's `config`). */
  userValues: Record<string, unknown>;
  model: GlooModel;
  source: SourceRef;
  /** Facts the user should know about how the release was read (a chart newer than the catalog). */
  notes?: string[];
  /** The object that carries the release when it is not Helm's own record (an Argo CD Application, ...). */
  carrier?: CarrierRef;
  /** What the carrier left unread (value files in git, ...): shown as notes, never silently dropped. */
  carrierNotes?: string[];
  /** Top-level keys the umbrella chart reads as this dependency's condition: passed down, never read here. */
  conditionKeys?: string[];
}

/** The Kubernetes object a release was read from, for messages and PolicyReports. */
export interface CarrierRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** A Kubernetes Namespace. */
export interface NamespaceSubject {
  kind: 'namespace';
  object: V1Namespace;
  name: string;
  source: SourceRef;
}

/** A Kubernetes Deployment (apps/v1). */
export interface DeploymentSubject {
  kind: 'deployment';
  object: V1Deployment;
  name: string;
  namespace?: string;
  source: SourceRef;
}

/** A Kubernetes Service (only the management server's is judged). */
export interface ServiceSubject {
  kind: 'service';
  object: V1Service;
  name: string;
  namespace?: string;
  source: SourceRef;
}

/** Anything the engine can judge. */
export type Subject = ReleaseSubject | NamespaceSubject | DeploymentSubject | ServiceSubject;

/** The kind names of subjects, used by policies to say what they judge. */
export type SubjectKind = Subject['kind'];

/** A component's image, as configured in values; an empty tag means the chart version. */
export interface ImageModel {
  tag: Setting<string>;
  repository: Setting<string>;
}

/** The management server, as configured in values. */
export interface MgmtServerModel {
  enabled: Flag;
  /** Values prefix: `glooMeshMgmtServer` (2.0-2.2) or `glooMgmtServer` (gloo-platform). */
  prefix: string;
  image: ImageModel;
  serviceType: Setting<unknown>;
  serviceOverrides: Setting<unknown>;
  deploymentOverrides: Setting<unknown>;
  relay: {
    disableCa: Flag;
    disableCaCertGeneration: Flag;
    tlsSecretName: Setting<unknown>;
    signingTlsSecretName: Setting<unknown>;
    tlsSecret: SecretRef;
    signingTlsSecret: SecretRef;
  };
  /** Settings that also register the management cluster as a workload cluster. */
  registersItself: Flag[];
  /** Extra environment of the management server container (`extraEnvs`, a map or a list). */
  extraEnvs: Setting<unknown>;
}

/** The relay agent, as configured in values. */
export interface AgentModel {
  enabled: Flag;
  /** Values prefix: `glooMeshAgent` (2.0-2.2) or `glooAgent` (gloo-platform). */
  prefix: string;
  image: ImageModel;
  deploymentOverrides: Setting<unknown>;
  relay: {
    serverAddress: Setting<unknown>;
    clientTlsSecretName: Setting<unknown>;
    rootTlsSecretName: Setting<unknown>;
    clientTlsSecret: SecretRef;
    rootTlsSecret: SecretRef;
    tokenSecret: SecretRef;
  };
  extraEnvs: Setting<unknown>;
}

/** The UI and its OIDC settings. */
export interface UiModel {
  enabled: Flag;
  prefix: string;
  deploymentOverrides: Setting<unknown>;
  auth: {
    enabled: Flag;
    backend: Setting<unknown>;
    issuerUrl: Setting<unknown>;
    clientId: Setting<unknown>;
    appUrl: Setting<unknown>;
    clientSecret: Setting<unknown>;
    clientSecretName: Setting<unknown>;
  };
}

/**
 * One model for every chart family, so that a policy is written once. A part is undefined when
 * the chart family has no such component (the agent chart has no management server).
 */
export interface GlooModel {
  /** Every `insecure` switch of the release, with its path. */
  insecure: Flag[];
  mgmtServer?: MgmtServerModel;
  agent?: AgentModel;
  ui?: UiModel;
  redis?: { enabled: Flag; deploymentOverrides: Setting<unknown>; stores: RedisStoreModel[] };
  /** `uiUrl` is the UI's own Prometheus (`glooUi.prometheusUrl`), falling back to `url`. */
  prometheus?: { enabled: Flag; url: Setting<unknown>; uiUrl?: Setting<unknown> };
  addons: Flag[];
  /** Keys the vendor marks "do not use in production" that are set, with the vendor's words. */
  demoSettings: Array<{ setting: Setting<unknown>; quote: string }>;
  /** Credentials written inline, with the Secret reference to use instead (values never shown). */
  credentials: Array<{ setting: Setting<unknown>; instead: string; published?: boolean }>;
  /** Top-level keys the chart family and version do not know; `belongsTo` when another chart does. */
  unknownKeys: Array<{ key: string; belongsTo: ChartFamily[] }>;
  /** The catalog entry the release was read with (`gloo-platform 2.6`), for messages. */
  catalog: string;
  /** The relay setup option the management server's CA switches select, with the vendor's environment. */
  relayOption?: {
    title: string;
    environment: string;
    source: string;
    /** The server's certificate comes from a CA it generated itself. */
    selfSigned: boolean;
    /** Simple TLS: agents are not authenticated by client certificate. */
    simpleTls: boolean;
    /** What gloo-guard assumes where the vendor's environment column could not be read. */
    assumed?: string;
  };
  /** Which roles this release plays. */
  roles: { management: boolean; agent: boolean; addons: boolean };
}

/** One Redis store of a release (gloo-platform 2.5+ `redisStore.<store>`, or the shared Redis). */
export interface RedisStoreModel {
  store: string;
  /** The role that runs the store: its Redis is judged only when the release plays that role. */
  role: 'management' | 'addons';
  /** The bundled Redis of the store is deployed. */
  bundled: Flag;
  /** Where the store is pointed at another Redis, when the chart documents it. */
  address?: Setting<unknown>;
}

/** Name, namespace and labels: all the audit and the webhook's caches keep of an object they only need to know exists. */
export interface ObjectRef {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/** A read-only view of the cluster; absent when judging files. Filled by the audit issue. */
export interface ClusterView {
  /** Labels of a namespace, or undefined when the namespace does not exist. */
  namespaceLabels(name: string): Record<string, string> | undefined;
  /** Deployments across the cluster (name, namespace, labels of the object). */
  deployments(): readonly ObjectRef[];
  /** The Deployments with this name, in any namespace (an index lookup where the facts keep one). */
  deploymentsNamed(name: string): readonly ObjectRef[];
  /** Whether a Secret exists (no data is ever read). */
  secretExists(namespace: string, name: string): boolean;
}

/** What a policy gets besides the subject. */
export interface PolicyContext {
  namespaces: { management: string; addons: string };
  /** The policy's options from config, merged over its defaults. */
  options: Record<string, unknown>;
  cluster?: ClusterView;
}

/** What a policy's validate() returns: path-precise, with the fix for this case. */
export interface PolicyViolation {
  /** What is wrong, in words, without the id prefix and without any secret value. */
  message: string;
  /** Exact value or field path: `glooMeshMgmtServer.relay.disableCa`, `metadata.labels`. */
  path: string;
  /** How to fix this case; defaults to the policy's remediation. */
  fix?: string;
  /** Never refuse for this finding, only warn (used for facts read from the cluster, which may lag). */
  warnOnly?: boolean;
}

/** An option a policy accepts in config. */
export interface PolicyOption {
  description: string;
  default: string | number | boolean;
}

/** A namespace a policy names in `match`: the configured management or add-ons namespace. */
export type ConfiguredNamespace = 'management' | 'addons';

/**
 * Objects of one kind a policy judges. Every field given must hold, an absent field holds for all:
 * `namespaces` (for a Namespace, its own name), `names` (a trailing `*` makes a prefix), `labels`
 * (each key with that value).
 */
export interface MatchRule {
  namespaces?: readonly ConfiguredNamespace[];
  names?: readonly string[];
  labels?: Readonly<Record<string, string>>;
}

/**
 * What a policy judges, per kind of `appliesTo`: an object matches when any rule holds; a kind not
 * listed means every object of that kind. The engine runs a policy only on what it matches, the
 * chart's matchConditions are generated from it, and the audit reads only what some policy matches.
 */
export type PolicyMatch = Partial<Record<SubjectKind, readonly MatchRule[]>>;

/** A policy: data plus a pure function. Enforcement lives in config, never here. */
export interface Policy {
  id: string;
  title: string;
  severity: Severity;
  defaultAction: Action;
  description: string;
  remediation: string;
  /** Subject kinds this policy judges. */
  appliesTo: readonly SubjectKind[];
  /** Narrows `appliesTo` to the objects the policy can find fault with (least reach). */
  match?: PolicyMatch;
  options?: Readonly<Record<string, PolicyOption>>;
  validate(subject: Subject, ctx: PolicyContext): PolicyViolation[];
}

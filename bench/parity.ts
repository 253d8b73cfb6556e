/**
 * Checks that the Rego policies say what gloo-guard says before their speed is compared: a set of
 * passing and failing Namespaces and Deployments goes to both, and the verdicts and the policy ids in
 * the denial and the warnings must match.
 */
import { admissionReview, deploymentObject, namespaceObject } from './reviews.js';

type Obj = Record<string, unknown>;

/** A case of the parity check. */
export interface ParityCase {
  name: string;
  body: Buffer;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function podMeta(d: Obj): { labels: Record<string, string>; annotations: Record<string, string> } {
  return ((d.spec as Obj).template as Obj).metadata as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
}

function deployment(name: string, namespace: string, edit: (d: Obj) => void = () => undefined): Obj {
  const d = clone(deploymentObject());
  const md = d.metadata as Obj;
  md.name = name;
  md.namespace = namespace;
  edit(d);
  return d;
}

function namespace(name: string, labels: Record<string, string>): Obj {
  const n = clone(namespaceObject());
  const md = n.metadata as Obj;
  md.name = name;
  md.labels = { 'kubernetes.io/metadata.name': name, ...labels };
  return n;
}

function reviewOf(
  object: Obj,
  kind: 'Deployment' | 'Namespace',
  name: string,
  operation = 'CREATE',
): ParityCase {
  const review = admissionReview(object, kind, name);
  const request = review.request as Obj;
  request.operation = operation;
  if (operation === 'DELETE') {
    // The API server sends the stored object as oldObject and no object for a DELETE.
    request.oldObject = object;
    request.object = null;
  }
  return { name, body: Buffer.from(JSON.stringify(review)) };
}

/** Passing and failing objects for every Rego policy. */
export function parityCases(): ParityCase[] {
  const d = (name: string, ns: string, edit?: (o: Obj) => void): Obj => deployment(name, ns, edit);
  return [
    reviewOf(d('gloo-mesh-mgmt-server', 'gloo-mesh'), 'Deployment', 'deployment passes'),
    reviewOf(
      d('gloo-mesh-mgmt-server', 'gloo-mesh', (o) => {
        const m = podMeta(o);
        m.labels['sidecar.istio.io/inject'] = 'true';
        delete m.annotations['prometheus.io/port'];
        const c = (((o.spec as Obj).template as Obj).spec as { containers: Array<{ args: string[] }> })
          .containers[0];
        c?.args.push('--insecure');
      }),
      'Deployment',
      'mgmt server injected, insecure, no port annotation',
    ),
    reviewOf(d('gloo-mesh-redis', 'gloo-mesh'), 'Deployment', 'bundled redis'),
    reviewOf(d('prometheus-server', 'gloo-mesh'), 'Deployment', 'bundled prometheus'),
    reviewOf(
      d('rate-limiter', 'gloo-mesh-addons', (o) => {
        podMeta(o).annotations['sidecar.istio.io/inject'] = 'false';
      }),
      'Deployment',
      'add-on opts out of injection',
    ),
    reviewOf(
      d('gloo-mesh-ui', 'gloo-mesh', (o) => {
        podMeta(o).labels['istio.io/rev'] = '1-20';
        delete podMeta(o).annotations['sidecar.istio.io/inject'];
      }),
      'Deployment',
      'revision label on a management pod',
    ),
    reviewOf(
      d('gloo-mesh-agent', 'gloo-mesh', (o) => {
        const c = (((o.spec as Obj).template as Obj).spec as { containers: Array<{ args: string[] }> })
          .containers[0];
        c?.args.push('--relay-insecure=true');
      }),
      'Deployment',
      'insecure agent',
    ),
    reviewOf(namespace('gloo-mesh', {}), 'Namespace', 'management namespace passes'),
    reviewOf(
      namespace('gloo-mesh', { 'istio-injection': 'enabled' }),
      'Namespace',
      'management namespace injected',
    ),
    reviewOf(
      namespace('gloo-mesh', { 'istio.io/rev': '1-20' }),
      'Namespace',
      'management namespace revision',
    ),
    reviewOf(namespace('gloo-mesh-addons', {}), 'Namespace', 'add-ons namespace unlabelled'),
    reviewOf(
      namespace('gloo-mesh-addons', { 'istio-injection': 'enabled' }),
      'Namespace',
      'add-ons namespace labelled',
    ),
    reviewOf(
      namespace('gloo-mesh-addons', { 'istio-injection': 'disabled', 'istio.io/rev': '1-20' }),
      'Namespace',
      'add-ons namespace disabled wins over revision',
    ),
    reviewOf(namespace('gloo-mesh-addons', {}), 'Namespace', 'DELETE is always allowed', 'DELETE'),
  ];
}

/** What a verdict comes down to for comparison: allowed, and the policy ids denied and warned. */
export interface VerdictKey {
  allowed: boolean | undefined;
  denied: string[];
  warned: string[];
}

/** The policy ids a text names as `[policy-id]`. */
export function policyIds(text: string): string[] {
  return [...new Set([...text.matchAll(/\[([a-z0-9-]+)\]/g)].map((m) => m[1] ?? ''))].sort();
}

/** Reduces an AdmissionReview response to what parity compares. */
export function verdictKey(
  response: { allowed?: boolean; status?: { message?: string }; warnings?: string[] } | undefined,
): VerdictKey {
  return {
    allowed: response?.allowed,
    denied: policyIds(response?.status?.message ?? ''),
    warned: policyIds((response?.warnings ?? []).join('\n')),
  };
}

/** True when two verdicts agree. */
export function sameVerdict(a: VerdictKey, b: VerdictKey): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

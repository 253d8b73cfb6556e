/**
 * Hand-written fast paths for the three check groups that read a Deployment's pod template
 * (builtin.ts, POD_VARIABLES): whether Istio injection is turned on or off for its pods, and the
 * management server's scrape annotations. They are the checks every judged Deployment runs, and as
 * generated code (compiled.ts) they were 13-22 KB of machine code each, which a review over HTTPS
 * pays for in cache misses: about 11 µs of a Deployment review on a machine with 1 MiB of L2 per
 * core. Written out by hand they are a fraction of that, and a Deployment review over HTTPS costs
 * 0.90-0.94× the CPU it did (docs/performance.md, item 27).
 *
 * The CEL text stays the one source of truth: these functions answer only when sure (true when
 * every check holds, false when one does not), and throw NotDecided where the object is not as the
 * API server stores it, so that CEL decides and words the finding. Each is used only for the exact
 * text it was written for (WRITTEN_FOR): an edit of the checks in builtin.ts falls back to the
 * compiled path until the function here is brought in line, and a test says so.
 * test/unit/compiled-cel.test.ts checks them against @bufbuild/cel on generated objects.
 */
import { createHash } from 'node:crypto';
import { isPlainMap } from '../engine/values.js';
import type { CelCheckGroup } from './builtin.js';
import { NotDecided, type FastGroup, type Plain } from './compiled.js';

type PlainMap = { readonly [k: string]: unknown };

const NOT_DECIDED = new NotDecided('not decided by the pod-template reader');

function undecided(): never {
  throw NOT_DECIDED;
}

const EMPTY: PlainMap = Object.freeze({});

/** `has(m.key)`: false when absent, undecided when null (CEL's has() and `in` differ on it). */
function has(m: PlainMap, key: string): boolean {
  if (!Object.hasOwn(m, key) || m[key] === undefined) return false;
  return m[key] === null ? undecided() : true;
}

/** A value read as a map; anything else (a string, a list) is left to CEL. */
function map(v: unknown): PlainMap {
  return isPlainMap(v) ? v : undecided();
}

/** A value read as a string; anything else is left to CEL (which compares across types differently). */
function text(v: unknown): string {
  return typeof v === 'string' ? v : undecided();
}

/** `m.key`, which CEL errors on when it is missing: present and not null, or undecided. */
function field(m: PlainMap, key: string): unknown {
  return has(m, key) ? m[key] : undecided();
}

/** A variable given to the checks (`object`, `request`), as a map. */
function variable(v: Readonly<Record<string, unknown>>, name: string): PlainMap {
  return Object.hasOwn(v, name) ? map(v[name]) : undecided();
}

/** The pod template's metadata when POD_META holds, else {} (so that every key reads as absent). */
function podMetadata(object: PlainMap): PlainMap {
  if (!has(object, 'spec')) return EMPTY;
  const spec = map(object.spec);
  if (!has(spec, 'template')) return EMPTY;
  const template = map(spec.template);
  return has(template, 'metadata') ? map(template.metadata) : EMPTY;
}

/** POD_META && has(…metadata.<key>) ? …metadata.<key> : {}, read as a map. */
function podMap(metadata: PlainMap, key: 'labels' | 'annotations'): PlainMap {
  return has(metadata, key) ? map(metadata[key]) : EMPTY;
}

/** `'key' in m ? m['key'] : ''`, read as a string. */
function entryOr(m: PlainMap, key: string): string {
  return has(m, key) ? text(m[key]) : '';
}

const INJECT = 'sidecar.istio.io/inject';
const REVISION = 'istio.io/rev';
const DATAPLANE = 'istio.io/dataplane-mode';

/** POD_VARIABLES after podLabels and podAnnotations: how Istio reads the pod template, in its order. */
interface Injection {
  labelInject: string;
  annotationInject: string;
  labelDecides: boolean;
  annotationDecides: boolean;
  revision: boolean;
  ambientMode: string;
}

function injection(object: PlainMap): Injection {
  const metadata = podMetadata(object);
  const labels = podMap(metadata, 'labels');
  const annotations = podMap(metadata, 'annotations');
  const labelInject = entryOr(labels, INJECT);
  const annotationInject = entryOr(annotations, INJECT);
  const labelDecides = labelInject === 'true' || labelInject === 'false';
  const annotationDecides = !labelDecides && (annotationInject === 'true' || annotationInject === 'false');
  const revision =
    !labelDecides && !annotationDecides && has(labels, REVISION) && text(labels[REVISION]) !== '';
  const ambientMode =
    !labelDecides && !annotationDecides && !revision && has(labels, DATAPLANE) ? text(labels[DATAPLANE]) : '';
  return { labelInject, annotationInject, labelDecides, annotationDecides, revision, ambientMode };
}

/** `request.namespace == variables.namespaces.<which>`. */
function inNamespace(
  v: Readonly<Record<string, unknown>>,
  w: Readonly<Record<string, Plain>>,
  which: 'management' | 'addons',
): boolean {
  const configured = text(field(map(field(w, 'namespaces')), which));
  return text(field(variable(v, 'request'), 'namespace')) === configured;
}

/**
 * The injection checks of a Deployment in one configured namespace: neither the label nor the
 * annotation that decides says `inject`, no revision label turns it on (when `revision` counts), and
 * the pod's ambient mode is not `mode`.
 */
function injectionChecks(
  which: 'management' | 'addons',
  inject: 'true' | 'false',
  revision: boolean,
  mode: 'ambient' | 'none',
): FastGroup {
  return (v, w) => {
    const i = injection(variable(v, 'object'));
    if (!inNamespace(v, w, which)) return true;
    return (
      !(i.labelDecides && i.labelInject === inject) &&
      !(i.annotationDecides && i.annotationInject === inject) &&
      !(revision && i.revision) &&
      i.ambientMode !== mode
    );
  };
}

/** no-injection-in-gloo-mesh on a Deployment: nothing in its pod template turns injection on. */
const noInjectionInGlooMesh = injectionChecks('management', 'true', true, 'ambient');

/** addons-namespace-injection on a Deployment: nothing in its pod template opts out of injection. */
const addonsNamespaceInjection = injectionChecks('addons', 'false', false, 'none');

/** `'key' in m && m['key'] == want`, or `!= ''` when `want` is undefined. */
function annotated(m: PlainMap, key: string, want?: string): boolean {
  if (!has(m, key)) return false;
  const value = text(m[key]);
  return want === undefined ? value !== '' : value === want;
}

/**
 * mgmt-server-scrape-annotations: the management server's pod template carries every scrape
 * annotation, checked in the order of the validations (the first that fails decides).
 */
const mgmtServerScrapeAnnotations: FastGroup = (v) => {
  const object = variable(v, 'object');
  const annotations = podMap(podMetadata(object), 'annotations');
  if (text(field(map(field(object, 'metadata')), 'name')) !== 'gloo-mesh-mgmt-server') return true;
  return (
    annotated(annotations, 'prometheus.io/scrape', 'true') &&
    annotated(annotations, 'prometheus.io/port') &&
    annotated(annotations, 'prometheus.io/path') &&
    annotated(annotations, INJECT, 'false')
  );
};

/** The fingerprint of a group's checks (its variables and validations), as WRITTEN_FOR keeps it. */
export function checksFingerprint(g: CelCheckGroup): string {
  const source = JSON.stringify([g.variables, g.validations.map((v) => v.expression)]);
  return createHash('sha256').update(source).digest('hex');
}

/**
 * By policy, the function for its Deployment checks and the fingerprint (checksFingerprint) of the
 * text it was written for. After an edit of that text in builtin.ts, check the function against it,
 * then put the new fingerprint here.
 */
export const WRITTEN_FOR: Readonly<Record<string, { fast: FastGroup; fingerprint: string }>> = {
  'no-injection-in-gloo-mesh': {
    fast: noInjectionInGlooMesh,
    fingerprint: 'ed5ed8c5de27efcb0e5ef77789adecf07c75b91bb5d0c239cbabd00213f95a6d',
  },
  'addons-namespace-injection': {
    fast: addonsNamespaceInjection,
    fingerprint: 'e50defd6df21c26cb91214365655100d7a94f74adcea5ba1a7073c61c03283bb',
  },
  'mgmt-server-scrape-annotations': {
    fast: mgmtServerScrapeAnnotations,
    fingerprint: 'b1bd3c261263f61c389323ad859803af26d15628eec2f7fb4fb1a31302e0736c',
  },
};

/** The hand-written fast path for a group, or undefined when there is none for its current text. */
export function handWritten(g: CelCheckGroup): FastGroup | undefined {
  const w =
    g.kind === 'deployment' && Object.hasOwn(WRITTEN_FOR, g.policy) ? WRITTEN_FOR[g.policy] : undefined;
  return w !== undefined && w.fingerprint === checksFingerprint(g) ? w.fast : undefined;
}

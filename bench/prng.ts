/** A small seeded PRNG and text helpers, so generated reviews are the same bytes on every run. */
import { createHash } from 'node:crypto';

/** A deterministic source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast, and good enough to vary names and text. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max]. */
export function int(rng: Random, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** One element of a non-empty list. */
export function pick<T>(rng: Random, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A hex digest of a label, as Helm charts put in checksum annotations. */
export function sha256(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/** Random bytes from the PRNG (certificates, tokens: the parts of a release that do not compress). */
export function bytes(rng: Random, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

const WORDS = (
  'the a of to and in is for that with on as by be are this it from or an not if when which ' +
  'field value values name namespace cluster service mesh relay agent server management workload ' +
  'certificate secret token key chart release revision deployment pod container image tag port ' +
  'protocol route gateway listener upstream destination virtual policy rate limit auth external ' +
  'request response header path prefix match weight timeout retry budget circuit breaker outlier ' +
  'detection connection pool http grpc tcp tls mtls trust domain identity workspace settings ' +
  'import export selector label annotation resource limits requests memory cpu replicas strategy ' +
  'rolling update surge unavailable probe readiness liveness startup period seconds threshold ' +
  'defaults override overrides optional required specifies configures determines whether should ' +
  'must may used uses using enabled disabled enables disables set sets unset list map string ' +
  'integer boolean object array duration percentage ratio number default applies applied apply ' +
  'traffic telemetry metrics tracing logs collector exporter pipeline processor receiver batch ' +
  'queue retention storage volume claim mount config map bootstrap envoy istio sidecar proxy ' +
  'injection revision canary blue green failover locality priority zone region network east west ' +
  'ingress egress north south federation discovery registry virtual destination fault injection ' +
  'delay abort percentage transformation jwt oidc provider issuer audience claims scope session ' +
  'cookie redis cache backend portal api product usage plan schema validation reference source ' +
  'target kind version group status condition observed generation reason message last transition'
).split(' ');

/** A sentence of `n` words from a technical vocabulary: text that compresses like real descriptions. */
export function sentence(rng: Random, n: number): string {
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(rng, WORDS));
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

const LONG_WORDS = WORDS.filter((w) => w.length > 3);

/** A lower-case identifier of two or three vocabulary words. */
export function identifier(rng: Random, sep = '-'): string {
  const n = int(rng, 2, 3);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(pick(rng, LONG_WORDS));
  return parts.join(sep);
}

/** camelCase of an identifier. */
export function camel(rng: Random): string {
  return identifier(rng, ' ')
    .split(' ')
    .map((w, i) => (i === 0 ? w : `${w.charAt(0).toUpperCase()}${w.slice(1)}`))
    .join('');
}

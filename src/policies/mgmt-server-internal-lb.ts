import type { Policy, PolicyViolation } from '../engine/types.js';
import { getPath, isObject } from '../engine/values.js';
import { runCelChecks } from '../rules/checks.js';
import { violation } from './util.js';

/** Annotations that make a LoadBalancer internal on AWS, GCP and Azure, with the value each needs. */
export const INTERNAL_LB_ANNOTATIONS: Readonly<Record<string, (v: string) => boolean>> = {
  'service.beta.kubernetes.io/aws-load-balancer-internal': (v) => v === 'true' || v === '0.0.0.0/0',
  'service.beta.kubernetes.io/aws-load-balancer-scheme': (v) => v === 'internal',
  'networking.gke.io/load-balancer-type': (v) => v.toLowerCase() === 'internal',
  'cloud.google.com/load-balancer-type': (v) => v.toLowerCase() === 'internal',
  'service.beta.kubernetes.io/azure-load-balancer-internal': (v) => v === 'true',
};

function isInternal(annotations: unknown): boolean {
  if (!isObject(annotations)) return false;
  return Object.entries(INTERNAL_LB_ANNOTATIONS).some(([k, ok]) =>
    ok(typeof annotations[k] === 'string' ? annotations[k] : ''),
  );
}

const FIX_TEXT =
  'add an internal load balancer annotation (AWS service.beta.kubernetes.io/aws-load-balancer-scheme: internal, ' +
  'GCP networking.gke.io/load-balancer-type: Internal, Azure service.beta.kubernetes.io/azure-load-balancer-internal: "true")';

// A warning keeps 256 runes (the API server cuts the rest), so the fix a user reads names the annotations'
// home; the annotations of each cloud are in the remediation (docs/policies.md, gloo-guard policies).

const SHORT_FIX = "add your cloud's internal load balancer annotation (gloo-guard policies lists them)";

/** Warns about a management server exposed by a public load balancer. */
export const mgmtServerInternalLb: Policy = {
  id: 'mgmt-server-internal-lb',
  title: 'The management server is exposed on an internal load balancer',
  severity: 'medium',
  defaultAction: 'warn',
  description:
    'The management server Service defaults to type LoadBalancer; without an internal-load-balancer annotation the ' +
    'cloud gives it a public address, exposing the relay port (9900) to the internet.',
  remediation: FIX_TEXT,
  appliesTo: ['release', 'service'],
  match: { service: [{ names: ['gloo-mesh-mgmt-server'] }] },
  validate(subject, ctx): PolicyViolation[] {
    // The Service check is CEL data (src/rules/builtin.ts), also rendered as a ValidatingAdmissionPolicy.
    if (subject.kind === 'service') return runCelChecks('mgmt-server-internal-lb', subject, ctx);
    if (subject.kind !== 'release') return [];
    const mgmt = subject.model.mgmtServer;
    if (!mgmt?.enabled.value) return [];
    const type = getPath(mgmt.serviceOverrides.value, 'spec.type') ?? mgmt.serviceType.value;
    if (type !== 'LoadBalancer' || isInternal(getPath(mgmt.serviceOverrides.value, 'metadata.annotations')))
      return [];
    return [
      violation(
        'the management server is exposed by a LoadBalancer without an internal annotation',
        `${mgmt.serviceOverrides.path}.metadata.annotations`,
        `set ${mgmt.serviceType.path}: ClusterIP, or add ${SHORT_FIX.replace('add ', '')} under ${mgmt.serviceOverrides.path}.metadata.annotations`,
      ),
    ];
  },
};

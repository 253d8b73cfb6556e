import type { Policy, PolicyViolation } from '../engine/types.js';
import { violation } from './util.js';

const REQUIRED: ReadonlyArray<[string, (v: string | undefined) => boolean, string]> = [
  ['prometheus.io/scrape', (v) => v === 'true', '"true"'],
  ['prometheus.io/port', (v) => v !== undefined && v !== '', '"9091"'],
  ['prometheus.io/path', (v) => v !== undefined && v !== '', '/metrics'],
  ['sidecar.istio.io/inject', (v) => v === 'false', '"false"'],
];

/** Warns when the management server pods cannot be scraped by your Prometheus. */
export const mgmtServerScrapeAnnotations: Policy = {
  id: 'mgmt-server-scrape-annotations',
  title: 'The management server pods carry the scrape annotations',
  severity: 'low',
  defaultAction: 'warn',
  description:
    'Your own Prometheus finds the management server through the pod annotations prometheus.io/scrape, ' +
    'prometheus.io/port and prometheus.io/path, and the pod must stay out of the mesh (sidecar.istio.io/inject: "false"). ' +
    'Judged on the gloo-mesh-mgmt-server Deployment.',
  remediation:
    'set the pod template annotations prometheus.io/scrape: "true", prometheus.io/port: "9091", prometheus.io/path: /metrics, sidecar.istio.io/inject: "false"',
  appliesTo: ['deployment'],
  match: { deployment: [{ names: ['gloo-mesh-mgmt-server'] }] },
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'deployment' || subject.name !== 'gloo-mesh-mgmt-server') return [];
    const annotations = subject.object.spec?.template?.metadata?.annotations ?? {};
    return REQUIRED.filter(([key, ok]) => !ok(annotations[key])).map(([key, , want]) =>
      violation(
        `the management server pod template lacks ${key}: ${want}`,
        `spec.template.metadata.annotations["${key}"]`,
        `set the pod template annotation ${key}: ${want}`,
      ),
    );
  },
};

import type { Policy, PolicyViolation } from '../engine/types.js';
import { runCelChecks } from '../rules/checks.js';

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
  // The checks are CEL data (src/rules/builtin.ts), also rendered as a ValidatingAdmissionPolicy.
  validate: (subject, ctx): PolicyViolation[] => runCelChecks('mgmt-server-scrape-annotations', subject, ctx),
};

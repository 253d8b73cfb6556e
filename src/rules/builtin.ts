/**
 * The object-level parts of the built-in policies (Namespaces, Deployments, Services), as CEL data:
 * one source of truth that the engine evaluates in the webhook, the CLI and the audit, and that
 * `gloo-guard vap` renders into ValidatingAdmissionPolicies for the API server to enforce alone.
 * Written in the form a ValidatingAdmissionPolicy takes (`variables.*`, a list of validations), so
 * the text is the same in both places. Release checks stay in TypeScript: they need Helm decoding.
 */
import type { SubjectKind } from '../engine/types.js';

/** One validation: the expression must hold; message and fix are CEL strings. */
export interface CelValidation {
  expression: string;
  message: string;
  /** The field path the message is about (a literal, like a built-in's paths). */
  path: string;
  fix: string;
}

/** The checks of one policy on one kind of object. */
export interface CelCheckGroup {
  policy: string;
  kind: Exclude<SubjectKind, 'release'>;
  /** Evaluated in order as `variables.<name>`; `variables.namespaces` (the config's) comes first. */
  variables: ReadonlyArray<readonly [string, string]>;
  validations: readonly CelValidation[];
}

const NS_LABELS = ['labels', 'has(object.metadata.labels) ? object.metadata.labels : {}'] as const;
const NS_AMBIENT = "(AMBIENT in variables.labels && variables.labels[AMBIENT] == 'ambient')".replaceAll(
  'AMBIENT',
  "'istio.io/dataplane-mode'",
);
const NS_INJECTED = [
  'injected',
  // Ambient enrolment is mesh enrolment too (see policies/util.ts).
  `${NS_AMBIENT} || ` +
    "('istio-injection' in variables.labels && variables.labels['istio-injection'] == 'enabled') || " +
    "(!('istio-injection' in variables.labels && variables.labels['istio-injection'] == 'disabled') && " +
    "'istio.io/rev' in variables.labels && variables.labels['istio.io/rev'] != '')",
] as const;

// A Deployment as written may lack spec or template (CEL's has() errors on a missing parent).
const POD_META = 'has(object.spec) && has(object.spec.template) && has(object.spec.template.metadata)';
const POD_VARIABLES = [
  [
    'podLabels',
    `${POD_META} && has(object.spec.template.metadata.labels) ? object.spec.template.metadata.labels : {}`,
  ],
  [
    'podAnnotations',
    `${POD_META} && has(object.spec.template.metadata.annotations) ? object.spec.template.metadata.annotations : {}`,
  ],
  // Istio reads the label first, then the annotation, then istio.io/rev (see policies/util.ts).
  [
    'labelInject',
    "'sidecar.istio.io/inject' in variables.podLabels ? variables.podLabels['sidecar.istio.io/inject'] : ''",
  ],
  [
    'annotationInject',
    "'sidecar.istio.io/inject' in variables.podAnnotations ? variables.podAnnotations['sidecar.istio.io/inject'] : ''",
  ],
  ['labelDecides', "variables.labelInject in ['true', 'false']"],
  ['annotationDecides', "!variables.labelDecides && variables.annotationInject in ['true', 'false']"],
  [
    'revision',
    "!variables.labelDecides && !variables.annotationDecides && 'istio.io/rev' in variables.podLabels && variables.podLabels['istio.io/rev'] != ''",
  ],
  // Last, the pod's ambient mode: `ambient` enrols it, `none` opts it out.
  [
    'ambientMode',
    "!variables.labelDecides && !variables.annotationDecides && !variables.revision && 'istio.io/dataplane-mode' in variables.podLabels ? variables.podLabels['istio.io/dataplane-mode'] : ''",
  ],
] as const;

const IN_MGMT = 'request.namespace != variables.namespaces.management';
const TURNS_ON = "'Deployment ' + object.metadata.name + ' turns on Istio injection for its pods'";
const TURNS_ON_FIX = "'remove the injection label or annotation from the pod template'";
const OPTS_OUT = "'Deployment ' + object.metadata.name + ' opts its pods out of Istio injection'";
const OPTS_OUT_FIX = '\'remove sidecar.istio.io/inject: "false" from the pod template\'';
const ADDONS_LABEL_FIX =
  "'label namespace ' + variables.namespaces.addons + ' with istio-injection=enabled, istio.io/rev=<revision> or istio.io/dataplane-mode=ambient'";

const SCRAPE = [
  ['prometheus.io/scrape', "== 'true'", '"true"'],
  ['prometheus.io/port', "!= ''", '"9091"'],
  ['prometheus.io/path', "!= ''", '/metrics'],
  ['sidecar.istio.io/inject', "== 'false'", '"false"'],
] as const;

// Short, so the denial fits the API server's warning limit (the policy's remediation lists them all).
const LB_FIX = '"add your cloud\'s internal load balancer annotation (gloo-guard policies lists them)"';

/** Every built-in object check, in catalog order. */
export const BUILTIN_CEL: readonly CelCheckGroup[] = [
  {
    policy: 'addons-namespace-injection',
    kind: 'namespace',
    variables: [NS_LABELS, NS_INJECTED],
    validations: [
      {
        expression: 'object.metadata.name != variables.namespaces.addons || variables.injected',
        message: "'namespace ' + variables.namespaces.addons + ' is not labelled for Istio injection'",
        path: 'metadata.labels',
        fix: ADDONS_LABEL_FIX,
      },
    ],
  },
  {
    policy: 'addons-namespace-injection',
    kind: 'deployment',
    variables: POD_VARIABLES,
    validations: [
      {
        expression:
          "request.namespace != variables.namespaces.addons || !variables.labelDecides || variables.labelInject != 'false'",
        message: OPTS_OUT,
        path: 'spec.template.metadata.labels["sidecar.istio.io/inject"]',
        fix: OPTS_OUT_FIX,
      },
      {
        expression:
          "request.namespace != variables.namespaces.addons || !variables.annotationDecides || variables.annotationInject != 'false'",
        message: OPTS_OUT,
        path: 'spec.template.metadata.annotations["sidecar.istio.io/inject"]',
        fix: OPTS_OUT_FIX,
      },
      {
        expression: "request.namespace != variables.namespaces.addons || variables.ambientMode != 'none'",
        message: OPTS_OUT,
        path: 'spec.template.metadata.labels["istio.io/dataplane-mode"]',
        fix: "'remove istio.io/dataplane-mode: none from the pod template'",
      },
    ],
  },
  {
    policy: 'no-injection-in-gloo-mesh',
    kind: 'namespace',
    variables: [NS_LABELS, ['ambient', NS_AMBIENT]],
    validations: [
      {
        expression: 'object.metadata.name != variables.namespaces.management || !variables.ambient',
        message: "'namespace ' + variables.namespaces.management + ' is enrolled in Istio ambient mode'",
        path: 'metadata.labels["istio.io/dataplane-mode"]',
        fix: "'remove the istio.io/dataplane-mode label from namespace ' + variables.namespaces.management",
      },
      {
        expression:
          "object.metadata.name != variables.namespaces.management || variables.ambient || !('istio-injection' in variables.labels && variables.labels['istio-injection'] == 'enabled')",
        message: "'namespace ' + variables.namespaces.management + ' is labelled for Istio injection'",
        path: 'metadata.labels["istio-injection"]',
        fix: "'remove the istio-injection label from namespace ' + variables.namespaces.management",
      },
      {
        expression:
          "object.metadata.name != variables.namespaces.management || variables.ambient || ('istio-injection' in variables.labels && variables.labels['istio-injection'] in ['enabled', 'disabled']) || !('istio.io/rev' in variables.labels) || variables.labels['istio.io/rev'] == ''",
        message: "'namespace ' + variables.namespaces.management + ' is labelled for Istio injection'",
        path: 'metadata.labels["istio.io/rev"]',
        fix: "'remove the istio.io/rev label from namespace ' + variables.namespaces.management",
      },
    ],
  },
  {
    policy: 'no-injection-in-gloo-mesh',
    kind: 'deployment',
    variables: POD_VARIABLES,
    validations: [
      {
        expression: `${IN_MGMT} || !variables.labelDecides || variables.labelInject != 'true'`,
        message: TURNS_ON,
        path: 'spec.template.metadata.labels["sidecar.istio.io/inject"]',
        fix: TURNS_ON_FIX,
      },
      {
        expression: `${IN_MGMT} || !variables.annotationDecides || variables.annotationInject != 'true'`,
        message: TURNS_ON,
        path: 'spec.template.metadata.annotations["sidecar.istio.io/inject"]',
        fix: TURNS_ON_FIX,
      },
      {
        expression: `${IN_MGMT} || !variables.revision`,
        message: TURNS_ON,
        path: 'spec.template.metadata.labels["istio.io/rev"]',
        fix: TURNS_ON_FIX,
      },
      {
        expression: `${IN_MGMT} || variables.ambientMode != 'ambient'`,
        message: TURNS_ON,
        path: 'spec.template.metadata.labels["istio.io/dataplane-mode"]',
        fix: TURNS_ON_FIX,
      },
    ],
  },
  {
    policy: 'mgmt-server-internal-lb',
    kind: 'service',
    variables: [
      ['annotations', 'has(object.metadata.annotations) ? object.metadata.annotations : {}'],
      [
        'internal',
        "('service.beta.kubernetes.io/aws-load-balancer-internal' in variables.annotations && variables.annotations['service.beta.kubernetes.io/aws-load-balancer-internal'] in ['true', '0.0.0.0/0']) || " +
          "('service.beta.kubernetes.io/aws-load-balancer-scheme' in variables.annotations && variables.annotations['service.beta.kubernetes.io/aws-load-balancer-scheme'] == 'internal') || " +
          "('networking.gke.io/load-balancer-type' in variables.annotations && variables.annotations['networking.gke.io/load-balancer-type'].lowerAscii() == 'internal') || " +
          "('cloud.google.com/load-balancer-type' in variables.annotations && variables.annotations['cloud.google.com/load-balancer-type'].lowerAscii() == 'internal') || " +
          "('service.beta.kubernetes.io/azure-load-balancer-internal' in variables.annotations && variables.annotations['service.beta.kubernetes.io/azure-load-balancer-internal'] == 'true')",
      ],
    ],
    validations: [
      {
        expression:
          "object.metadata.name != 'gloo-mesh-mgmt-server' || !has(object.spec) || !has(object.spec.type) || object.spec.type != 'LoadBalancer' || variables.internal",
        message: "'the management server Service is a public LoadBalancer'",
        path: 'metadata.annotations',
        fix: LB_FIX,
      },
    ],
  },
  {
    policy: 'mgmt-server-scrape-annotations',
    kind: 'deployment',
    variables: [POD_VARIABLES[1]],
    validations: SCRAPE.map(([key, test, want]) => ({
      expression: `object.metadata.name != 'gloo-mesh-mgmt-server' || ('${key}' in variables.podAnnotations && variables.podAnnotations['${key}'] ${test})`,
      message: `'the management server pod template lacks ${key}: ${want.replace(/'/g, "\\'")}'`,
      path: `spec.template.metadata.annotations["${key}"]`,
      fix: `'set the pod template annotation ${key}: ${want.replace(/'/g, "\\'")}'`,
    })),
  },
];

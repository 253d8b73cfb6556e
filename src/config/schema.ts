/**
 * The one JSON Schema of the config file. The loader validates with it (src/config/load.ts) and the
 * chart's values.schema.json carries the same subtrees for the keys it writes into the config file
 * (scripts/gen-chart-readme.ts), so a value that the server refuses is refused by `helm install` too.
 *
 * Only draft-07 keywords that Helm 3 (gojsonschema) and Helm 4 (santhosh-tekuri/jsonschema) both
 * apply are used. `format: date` is asserted by both (Go's time.Parse, which refuses 2030-02-30);
 * the loader gives ajv the same check. `errorMessage` and `requiredMessage` are our annotations for
 * the loader's one-line errors; JSON Schema validators ignore unknown keywords.
 */
import type { ChartFamily, Severity, SubjectKind } from '../engine/types.js';
import { POLICIES } from '../policies/index.js';

/** The subset of JSON Schema (draft-07) the config schema uses, plus the loader's annotations. */
export interface JsonSchema {
  type?: string | string[];
  enum?: readonly unknown[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  pattern?: string;
  format?: string;
  description?: string;
  /** The loader's message when this node fails: `{path}` and `{value}` are filled in. */
  errorMessage?: string;
  /** Said after "<path> is required: " when this property is missing. */
  requiredMessage?: string;
  [k: string]: unknown;
}

const ACTIONS = ['deny', 'warn', 'off'] as const;
const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
const KINDS: readonly SubjectKind[] = ['release', 'namespace', 'deployment', 'service'];
const FAMILIES: readonly ChartFamily[] = ['gloo-mesh-enterprise', 'gloo-mesh-agent', 'gloo-platform'];
/** Policy and rule ids are kebab-case. */
export const KEBAB = '^[a-z0-9]+(-[a-z0-9]+)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const VERSION_RANGE = '^(\\s*(>=|<=|>|<|=)?v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?\\s*)+$';

const text = (): JsonSchema => ({ type: 'string', minLength: 1 });
/** A string with something other than blanks in it: rule texts are shown to users. */
const words = (): JsonSchema => ({
  type: 'string',
  pattern: '\\S',
  errorMessage: '{path} must be a non-empty string',
});
const list = (items: JsonSchema): JsonSchema => ({ type: 'array', minItems: 1, items });
const positiveInt = (): JsonSchema => ({
  type: 'integer',
  minimum: 1,
  errorMessage: '{path} must be a positive whole number',
});
const namespace = (): JsonSchema => ({
  type: 'string',
  pattern: DNS_LABEL,
  maxLength: 63,
  errorMessage: '{path} must be a namespace name (a-z, 0-9, -; at most 63 characters), not {value}',
});
const action = (): JsonSchema => ({ type: 'string', enum: ACTIONS });

function policiesSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const p of POLICIES) {
    const options: Record<string, JsonSchema> = {};
    for (const [name, o] of Object.entries(p.options ?? {})) {
      options[name] = { type: typeof o.default, description: o.description };
    }
    properties[p.id] = {
      type: 'object',
      description: p.title,
      additionalProperties: false,
      properties: {
        action: action(),
        options: { type: 'object', additionalProperties: false, properties: options },
      },
    };
  }
  return {
    type: 'object',
    properties,
    // Other keys are the ids of `rules`, which have an action and no options. That an id names a
    // rule is checked by the loader (and the chart's configmap): a schema cannot see `rules`.
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      properties: { action: action(), options: { type: 'object', additionalProperties: false } },
    },
  };
}

function exceptionsSchema(): JsonSchema {
  const ids = POLICIES.map((p) => p.id).join(', ');
  return {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['policy', 'reason'],
      properties: {
        policy: { ...text(), description: `A built-in policy (${ids}) or the id of one of \`rules\`.` },
        namespace: text(),
        name: text(),
        reason: { ...text(), requiredMessage: 'say why the exception exists' },
        expires: {
          type: 'string',
          format: 'date',
          errorMessage: '{path}: {value} is not a date; write a real day as YYYY-MM-DD, e.g. 2027-03-31',
        },
      },
    },
  };
}

function rulesSchema(): JsonSchema {
  return {
    type: 'array',
    description: 'User rules in CEL; the webhook checks each one when it loads the config.',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'title', 'severity', 'appliesTo', 'expression', 'remediation'],
      properties: {
        id: { type: 'string', pattern: KEBAB, errorMessage: '{path} must be kebab-case (a-z, 0-9, -)' },
        title: words(),
        severity: { type: 'string', enum: SEVERITIES },
        action: action(),
        appliesTo: list({ type: 'string', enum: KINDS }),
        match: {
          type: 'object',
          additionalProperties: false,
          properties: {
            families: list({ type: 'string', enum: FAMILIES }),
            versions: {
              type: 'string',
              pattern: VERSION_RANGE,
              errorMessage: '{path} must be comparators such as ">=2.4.0 <2.7.0", not {value}',
            },
            namespaces: list(words()),
            names: list(words()),
          },
        },
        expression: words(),
        message: words(),
        messageExpression: words(),
        path: words(),
        remediation: words(),
        description: words(),
        costBudget: positiveInt(),
      },
    },
  };
}

/** The config file's schema; `policies` and the options follow the catalog of built-in policies. */
export function configSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'gloo-guard config',
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { type: 'string', enum: ['enforce', 'audit'] },
      onError: { type: 'string', enum: ['deny', 'allow'] },
      namespaces: {
        type: 'object',
        additionalProperties: false,
        properties: {
          management: namespace(),
          addons: namespace(),
        },
      },
      policies: policiesSchema(),
      exceptions: exceptionsSchema(),
      rules: rulesSchema(),
      limits: {
        type: 'object',
        additionalProperties: false,
        properties: { maxReleaseBytes: positiveInt() },
      },
    },
  };
}

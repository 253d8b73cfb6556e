import { parseGoBool } from '../engine/helm-values.js';
import type { Flag, Policy, PolicyViolation, ReleaseSubject, Setting } from '../engine/types.js';
import { SIMPLE_TLS_SWITCH } from '../engine/charts/adapters.js';
import { suggested } from './no-default-relay-ca.js';
import { ambiguousFlag, envEntries, readingOf, violation, type EnvEntry } from './util.js';

const RELAY_COMPONENTS = ['gloo-mesh-mgmt-server', 'gloo-mesh-agent'];
const INSECURE_ARG = /^--(?:relay-)?insecure(?:=(.*))?$/;

/**
 * Relay switches the management server and agent read from their environment (seen in the vendor's
 * workshops and community values as `extraEnvs`): each weakens relay to less than mTLS.
 */
export const RELAY_ENV_SWITCHES: Readonly<Record<string, string>> = {
  [SIMPLE_TLS_SWITCH]: 'the server accepts agents without a client certificate',
  RELAY_DISABLE_SERVER_CERTIFICATE_VALIDATION: "the agent does not validate the server's certificate",
};

/** Whether an env variable is one of the relay switches (the others are not read). */
function isRelaySwitch(name: string): boolean {
  return Object.hasOwn(RELAY_ENV_SWITCHES, name);
}

function insecureFlag(f: Flag): PolicyViolation[] {
  if (f.ambiguous) return [ambiguousFlag(f)];
  if (!f.value) return [];
  const why = f.reading === '' ? 'insecure is true' : `insecure is on${readingOf(f)}`;
  return [violation(`relay runs without mTLS because ${why}`, f.path, `set ${f.path}: false`)];
}

/** Env switches that are on, and env switches whose value Go's ParseBool cannot read. */
function envSwitches(
  entries: EnvEntry[],
  fix: (e: EnvEntry) => string,
  option?: ReleaseSubject['model']['relayOption'],
): PolicyViolation[] {
  return entries.flatMap((e) => {
    const base = RELAY_ENV_SWITCHES[e.name];
    const what =
      base !== undefined && option?.simpleTls && e.name === SIMPLE_TLS_SWITCH
        ? `${base} (relay option "${option.title}": ${suggested(option)})`
        : base;
    if (what === undefined || e.value === undefined) return [];
    const on = parseGoBool(e.value);
    if (on === undefined)
      return [
        violation(`${e.name} is not a boolean Go can read`, e.path, `remove ${e.name}, or set it to "false"`),
      ];
    return on ? [violation(`${e.name} is on: ${what}`, e.path, fix(e))] : [];
  });
}

function releaseEnv(subject: ReleaseSubject): PolicyViolation[] {
  const { mgmtServer, agent } = subject.model;
  const envs: Setting<unknown>[] = [
    ...(mgmtServer?.enabled.value ? [mgmtServer.extraEnvs] : []),
    ...(agent?.enabled.value ? [agent.extraEnvs] : []),
  ];
  return envs.flatMap((s) =>
    envSwitches(
      envEntries(s.value, s.path),
      (e) => `remove ${e.name} from ${s.path}`,
      subject.model.relayOption,
    ),
  );
}

/** Adds a violation for each insecure argument of container i. */
function insecureArgs(out: PolicyViolation[], args: unknown, i: number, name: string): void {
  if (!Array.isArray(args)) return;
  for (let j = 0; j < args.length; j++) {
    const arg: unknown = args[j];
    if (typeof arg !== 'string') continue;
    const m = INSECURE_ARG.exec(arg);
    const on = m ? (m[1] === undefined ? true : parseGoBool(m[1])) : false;
    if (on === false) continue;
    out.push(
      violation(
        `${name} runs with ${arg}`,
        `spec.template.spec.containers[${i}].args[${j}]`,
        'remove the insecure argument (in values: set insecure: false)',
      ),
    );
  }
}

function removeFromContainer(e: EnvEntry): string {
  return `remove ${e.name} from the container env`;
}

function deploymentFindings(containers: unknown, name: string): PolicyViolation[] {
  // An admitted object is not yet validated: containers and args may be of any type.
  const out: PolicyViolation[] = [];
  if (!Array.isArray(containers)) return out;
  // Plain loops: the management server's Deployment is judged on every change to it, and almost
  // always has nothing to find.
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i] as { args?: unknown; env?: unknown } | null | undefined;
    insecureArgs(out, c?.args, i, name);
    const env = envEntries(c?.env, `spec.template.spec.containers[${i}].env`, isRelaySwitch);
    if (env.length > 0) out.push(...envSwitches(env, removeFromContainer));
  }
  return out;
}

/** Refuses relay communication without mTLS. */
export const noInsecureRelay: Policy = {
  id: 'no-insecure-relay',
  title: 'Relay traffic must use mTLS',
  severity: 'critical',
  defaultAction: 'deny',
  description:
    'With `insecure: true` the management server and the agents talk over plain text: no mTLS, no identity. ' +
    'The vendor marks it "Do not use in production"; it exists for quick demonstrations. Judged: `insecure` ' +
    '(enterprise and agent charts, and `registerMgmtPlane.insecure` of enterprise 2.1/2.2), `common.insecure`, ' +
    '`glooMgmtServer.insecure`, `glooAgent.insecure`, the `extraEnvs` switches ' +
    `${Object.keys(RELAY_ENV_SWITCHES).join(' and ')} of the management server and agent, and the same in ` +
    'rendered Deployments\' args and env. A switch is read as Helm reads it: `1`, `"True"` are on; a string ' +
    'such as `"false"` that a template and a flag parser read differently is reported: use a YAML boolean.',
  remediation: 'remove the insecure setting or set it to false, and set up relay certificates',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ names: RELAY_COMPONENTS }] },
  validate(subject): PolicyViolation[] {
    if (subject.kind === 'release') {
      return [...subject.model.insecure.flatMap(insecureFlag), ...releaseEnv(subject)];
    }
    if (subject.kind !== 'deployment' || !RELAY_COMPONENTS.includes(subject.name)) return [];
    return deploymentFindings(subject.object.spec?.template?.spec?.containers, subject.name);
  },
};

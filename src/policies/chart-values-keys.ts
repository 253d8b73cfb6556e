import type { Policy, PolicyViolation } from '../engine/types.js';
import { violation } from './util.js';

/** Reports top-level values keys the chart does not know: written for another chart, or mistyped. */
export const chartValuesKeys: Policy = {
  id: 'chart-values-keys',
  title: 'Values are written for this chart',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'Helm ignores values keys a chart does not read, so values written for another Gloo Mesh chart (a ' +
    'gloo-mesh-enterprise file installed with gloo-platform) deploy the chart defaults: a demo setup that every ' +
    'other policy would pass. A top-level key that belongs to another chart family is refused; a key no catalogued ' +
    "chart knows is reported as a warning (gloo-guard's key catalog may lag the vendor's newest chart). " +
    "For a dependency of an umbrella chart, the key its condition names (`mesh.enabled`) is the parent's and is not reported.",
  remediation:
    'write the values with the keys of this chart and version (helm show values <chart> --version <v>)',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const here = `${subject.model.catalog}`;
    // An umbrella chart's condition (`mesh.enabled`) is passed down with the values; the subchart never reads it.
    const condition = new Set(subject.conditionKeys ?? []);
    const unknown = subject.model.unknownKeys.filter(({ key }) => !condition.has(key));
    return unknown.map(({ key, belongsTo }) => {
      const others = belongsTo.filter((f) => f !== subject.family);
      if (others.length > 0) {
        return violation(
          `top-level key ${key} belongs to chart ${others.join(', ')}, not ${subject.family}: Helm ignores it here`,
          key,
          `move the setting to its ${subject.family} key, or install chart ${others[0] ?? ''}`,
        );
      }
      return {
        ...violation(
          `top-level key ${key} is not a key of ${here} as gloo-guard's catalog knows it: Helm may ignore it`,
          key,
          `check the key against helm show values for ${subject.chart.name} ${subject.chart.version}`.trimEnd(),
        ),
        warnOnly: true,
      };
    });
  },
};

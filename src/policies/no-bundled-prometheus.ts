import type { Policy, PolicyViolation } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { violation } from './util.js';

const DEFAULT_URL = 'http://prometheus-server';

/**
 * The URL as a message may show it: credentials (`user:password@`) and a query or fragment, which
 * can hold a token, are replaced by `***`.
 */
function shownUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  const at = url.lastIndexOf('@');
  const rest = at >= scheme.length ? `***@${url.slice(at + 1)}` : url.slice(scheme.length);
  return `${scheme}${rest.replace(/[?#].*$/s, (m) => `${m[0] ?? ''}***`)}`;
}

function hasExplicitPort(url: string): boolean {
  try {
    return new URL(url).port !== '';
  } catch {
    return false;
  }
}

/** Refuses the bundled, storage-less Prometheus and an unset Prometheus URL. */
export const noBundledPrometheus: Policy = {
  id: 'no-bundled-prometheus',
  title: 'Bring your own Prometheus',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'The bundled prometheus-server has no persistent storage. Disable it and point the management server at your own ' +
    'Prometheus by its full URL, port included. For gloo-platform, whose chart does not document a default for ' +
    'prometheus.enabled, gloo-guard assumes true (as the 2.0 charts do).',
  remediation:
    'set prometheus.enabled: false and prometheusUrl (common.prometheusUrl) to your Prometheus with its port',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ namespaces: ['management'], names: ['prometheus-server'] }] },
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind === 'deployment') {
      return subject.name === 'prometheus-server' && subject.namespace === ctx.namespaces.management
        ? [violation('the bundled prometheus-server runs in the management namespace', 'metadata.name')]
        : [];
    }
    if (subject.kind !== 'release' || !subject.model.roles.management || !subject.model.prometheus) return [];
    const { enabled, url } = subject.model.prometheus;
    if (enabled.value) {
      return [
        violation(
          'the bundled Prometheus is enabled',
          enabled.path,
          `set ${enabled.path}: false and use your own Prometheus`,
        ),
      ];
    }
    if (!isSet(url.value) || url.value === DEFAULT_URL) {
      return [
        violation(
          'the Prometheus URL still points at the bundled prometheus-server',
          url.path,
          `set ${url.path} to your Prometheus, e.g. http://prometheus.monitoring:9090`,
        ),
      ];
    }
    if (!hasExplicitPort(url.value)) {
      const shown = shownUrl(url.value);
      return [
        violation(
          `the Prometheus URL ${shown} has no explicit port`,
          url.path,
          `add the port to ${url.path}, e.g. ${shown.replace(/\/$/, '')}:9090`,
        ),
      ];
    }
    return [];
  },
};

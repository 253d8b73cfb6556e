import type { Policy, PolicyViolation, Setting } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { readingOf, violation } from './util.js';

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

function urlFindings(url: Setting<unknown>, what: string): PolicyViolation[] {
  if (!isSet(url.value) || url.value === DEFAULT_URL) {
    return [
      violation(
        `${what} still points at the bundled prometheus-server`,
        url.path,
        `set ${url.path} to your Prometheus, e.g. http://prometheus.monitoring:9090`,
      ),
    ];
  }
  if (hasExplicitPort(url.value)) return [];
  const shown = shownUrl(url.value);
  return [
    violation(
      `${what} ${shown} has no explicit port`,
      url.path,
      `add the port to ${url.path}, e.g. ${shown.replace(/\/$/, '')}:9090`,
    ),
  ];
}

/** Refuses the bundled, storage-less Prometheus and an unset Prometheus URL. */
export const noBundledPrometheus: Policy = {
  id: 'no-bundled-prometheus',
  title: 'Bring your own Prometheus',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'The bundled prometheus-server has no persistent storage. Disable it and point the management server at your own ' +
    'Prometheus by its full URL, port included (common.prometheusUrl, or prometheusUrl in 2.0-2.2); on gloo-platform ' +
    'the UI reads glooUi.prometheusUrl first and falls back to common.prometheusUrl, so with the UI on, the URL it ' +
    "uses is judged (the vendor's day-2 workshop sets only glooUi.prometheusUrl). " +
    'prometheus.enabled is the bundled subchart\'s condition: only a YAML false disables it ("false", 0 and null ' +
    'leave it deployed, as Helm does). Defaults assumed for values files: true for gloo-mesh-enterprise 2.0-2.2 (its ' +
    'Helm reference); gloo-platform documents none and every vendor example sets it, so gloo-guard assumes true. ' +
    'The vendor also documents keeping the bundled Prometheus as a short-term store and federating it into your own; ' +
    'teams that do so turn on the allowFederation option, which allows the bundled Prometheus and its URL.',
  remediation:
    'set prometheus.enabled: false and prometheusUrl (common.prometheusUrl) to your Prometheus with its port',
  appliesTo: ['release', 'deployment'],
  match: { deployment: [{ namespaces: ['management'], names: ['prometheus-server'] }] },
  options: {
    allowFederation: {
      description: 'allow the bundled Prometheus when your own Prometheus federates from it',
      default: false,
    },
  },
  validate(subject, ctx): PolicyViolation[] {
    const federate = ctx.options.allowFederation === true;
    if (subject.kind === 'deployment') {
      return !federate &&
        subject.name === 'prometheus-server' &&
        subject.namespace === ctx.namespaces.management
        ? [violation('the bundled prometheus-server runs in the management namespace', 'metadata.name')]
        : [];
    }
    if (subject.kind !== 'release' || !subject.model.roles.management || !subject.model.prometheus) return [];
    const { enabled, url, uiUrl } = subject.model.prometheus;
    if (federate) return [];
    if (enabled.value) {
      return [
        violation(
          `the bundled Prometheus is enabled${readingOf(enabled)}`,
          enabled.path,
          `set ${enabled.path}: false and use your own Prometheus`,
        ),
      ];
    }
    // The UI reads glooUi.prometheusUrl and falls back to common.prometheusUrl: with its own URL set, the
    // fallback is unused (solo-cop gloo-mesh-day-2 sets only glooUi.prometheusUrl, and the UI leaves its error state).
    if (subject.model.ui?.enabled.value && uiUrl && isSet(uiUrl.value))
      return urlFindings(uiUrl, "the UI's Prometheus URL");
    return urlFindings(url, 'the Prometheus URL');
  },
};

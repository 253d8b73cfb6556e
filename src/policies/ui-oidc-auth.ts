import type { Policy, PolicyViolation, Setting } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { ambiguousFlag, violation } from './util.js';

function httpsUrl(s: Setting<unknown>, what: string): PolicyViolation[] {
  if (!isSet(s.value))
    return [violation(`the UI's OIDC ${what} is not set`, s.path, `set ${s.path} to an https:// URL`)];
  return s.value.startsWith('https://')
    ? []
    : [violation(`the UI's OIDC ${what} is not https`, s.path, `set ${s.path} to an https:// URL`)];
}

/** Warns about a UI that anyone who reaches it can use. */
export const uiOidcAuth: Policy = {
  id: 'ui-oidc-auth',
  title: 'The UI requires OIDC login',
  severity: 'high',
  defaultAction: 'warn',
  description:
    'The Gloo Mesh UI shows and changes the whole mesh. Without OIDC anyone who can reach its Service can use it. ' +
    'Production UIs authenticate with an OIDC provider over https.',
  remediation:
    'set auth.enabled: true, auth.backend: oidc, and auth.oidc.issuerUrl, clientId, appUrl (https) for the UI',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    const ui = subject.model.ui;
    if (ui?.enabled.ambiguous) return [ambiguousFlag(ui.enabled)];
    if (!ui?.enabled.value) return [];
    const a = ui.auth;
    if (a.enabled.ambiguous) return [ambiguousFlag(a.enabled)];
    if (!a.enabled.value) {
      return [
        violation(
          'the UI is enabled without login',
          a.enabled.path,
          `set ${a.enabled.path}: true, ${a.backend.path}: oidc, and ${ui.prefix}.auth.oidc.issuerUrl, clientId, appUrl (https)`,
        ),
      ];
    }
    const out: PolicyViolation[] = [];
    if (a.backend.value !== 'oidc')
      out.push(violation('the UI auth backend is not oidc', a.backend.path, `set ${a.backend.path}: oidc`));
    out.push(...httpsUrl(a.issuerUrl, 'issuer URL'));
    if (!isSet(a.clientId.value)) {
      out.push(
        violation(
          "the UI's OIDC client id is not set",
          a.clientId.path,
          `set ${a.clientId.path} to the id from your OIDC provider`,
        ),
      );
    }
    out.push(...httpsUrl(a.appUrl, 'app URL'));
    return out;
  },
};

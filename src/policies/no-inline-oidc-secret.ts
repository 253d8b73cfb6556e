import type { Policy, PolicyViolation } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { violation } from './util.js';

/** Refuses an OIDC client secret written into values, where Helm keeps it in plain text. */
export const noInlineOidcSecret: Policy = {
  id: 'no-inline-oidc-secret',
  title: 'No OIDC client secret in values',
  severity: 'critical',
  defaultAction: 'deny',
  description:
    'Helm stores every value of a release in the release Secret, readable by anyone who can read Secrets in the ' +
    'namespace and kept in every revision. An OIDC client secret written into values leaks that way. ' +
    'The value itself is never printed by gloo-guard.',
  remediation:
    'remove auth.oidc.clientSecret from values, create a Secret with the client secret, and name it in auth.oidc.clientSecretName',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release' || !subject.model.ui) return [];
    const { clientSecret, clientSecretName } = subject.model.ui.auth;
    if (!isSet(clientSecret.value)) return [];
    return [
      violation(
        'the OIDC client secret is written into the Helm values',
        clientSecret.path,
        `remove ${clientSecret.path}; create a Secret with it and set ${clientSecretName.path}`,
      ),
    ];
  },
};

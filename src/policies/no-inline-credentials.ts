import type { Policy, PolicyViolation, ReleaseSubject, Setting } from '../engine/types.js';
import { isSet } from '../engine/values.js';
import { envEntries, violation } from './util.js';

/** Environment variables that carry a credential when given inline. */
const CREDENTIAL_ENVS = /^(RELAY_TOKEN|.*(PASSWORD|SECRET|TOKEN|API_KEY|LICENSE_KEY))$/;

function envCredentials(subject: ReleaseSubject): PolicyViolation[] {
  const envs = [subject.model.mgmtServer?.extraEnvs, subject.model.agent?.extraEnvs].filter(
    (s): s is Setting<unknown> => s !== undefined,
  );
  return envs.flatMap((s) =>
    envEntries(s.value, s.path)
      .filter((e) => e.inline && CREDENTIAL_ENVS.test(e.name) && isSet(e.value))
      .map((e) =>
        violation(
          `${e.name} is written inline into the Helm values`,
          e.path,
          `store it in a Secret and reference it with valueFrom.secretKeyRef in ${s.path}.${e.name}`,
        ),
      ),
  );
}

/** Refuses credentials written into values, where Helm keeps them in plain text in every revision. */
export const noInlineCredentials: Policy = {
  id: 'no-inline-credentials',
  title: 'No credentials in values',
  severity: 'critical',
  defaultAction: 'deny',
  description:
    'Helm stores every value of a release in the release Secret, in every revision, readable by anyone who can read ' +
    'Secrets in the namespace. Credentials beyond the OIDC client secret (no-inline-oidc-secret) are refused when ' +
    'written inline: a relay token or any *PASSWORD/*SECRET/*TOKEN variable in extraEnvs, and a license key on ' +
    'gloo-platform, whose chart reads it from a Secret named in licensing.licenseSecretName; exporter passwords ' +
    '(telemetry*Customization.extraExporters.*.password; "${env:NAME}" read from a Secret through extraEnvs passes, as ' +
    "in the vendor's portal values); the SPIRE PostgreSQL password (postgresql.global.postgresql.auth.password, use " +
    'auth.existingSecret); and the API-key storage hash key (secretKey of extAuthService.extAuth.apiKeyStorage, ' +
    'glooPortalServer.apiKeyStorage and redisStore.extAuthService.client), for which no Secret reference is documented: ' +
    'only the example value the vendor publishes ("ThisIsSecret") is refused. The value is never printed.',
  remediation: 'move the credential into a Secret and reference the Secret from values',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    return [
      ...subject.model.credentials.map(({ setting, instead, published }) =>
        published
          ? violation(
              `${setting.path} holds the example secret the vendor publishes, known to anyone`,
              setting.path,
              `set ${setting.path} to ${instead}`,
            )
          : violation(
              `a credential is written inline into the Helm values`,
              setting.path,
              `remove ${setting.path}; put it in a Secret and use ${instead}`,
            ),
      ),
      ...envCredentials(subject),
    ];
  },
};

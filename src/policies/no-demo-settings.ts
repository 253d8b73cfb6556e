import type { Policy, PolicyViolation } from '../engine/types.js';
import { violation } from './util.js';

/** Refuses settings the vendor's references mark "do not use in production". */
export const noDemoSettings: Policy = {
  id: 'no-demo-settings',
  title: 'No settings the vendor marks "do not use in production"',
  severity: 'high',
  defaultAction: 'deny',
  description:
    'Settings the vendor\'s Helm references and production examples mark "Do not use in production": ' +
    'gloo-platform common.devMode, demo.* (such as demo.manageAddonNamespace) and experimental.*; the 2.0-2.2 ' +
    'charts\' devMode ("development mode, which can cause panics"), and from 2.1 managedInstallations, sidecar-accel ' +
    '(agent and registerMgmtPlane) and glooMeshMgmtServer.enableClusterLoadBalancing. A key counts when a Helm template would take it as set ' +
    '(true, a non-empty string, a non-zero number). Insecure relay is judged by no-insecure-relay.',
  remediation: 'remove the setting (or set it to false) for production',
  appliesTo: ['release'],
  validate(subject): PolicyViolation[] {
    if (subject.kind !== 'release') return [];
    return subject.model.demoSettings.map(({ setting, quote }) =>
      violation(
        `${setting.path} is set; the vendor says "${quote}"`,
        setting.path,
        `remove ${setting.path} (or set it to false)`,
      ),
    );
  },
};

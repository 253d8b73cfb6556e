import { describe, expect, it } from 'vitest';
import { FULLNAME, MAJORS, NAMESPACE, one, render, selects, type Json, type K8sObject } from './helm.js';

const vwc = (objs: K8sObject[]): K8sObject => one(objs, 'ValidatingWebhookConfiguration', FULLNAME);
const hook = (objs: K8sObject[], name: string): Json => {
  const found = vwc(objs).webhooks.find((w: Json) => w.name === name);
  if (!found) throw new Error(`no webhook ${name}`);
  return found;
};
const nsLabels = (name: string): Record<string, string> => ({ 'kubernetes.io/metadata.name': name });

describe.each(MAJORS)('ValidatingWebhookConfiguration (helm %s)', (major) => {
  const objs = render(major);

  it('when rendered with defaults, then it has one webhook per kind, named under gloo-guard.io', () => {
    expect(vwc(objs).webhooks.map((w: Json) => w.name)).toEqual([
      'releases.gloo-guard.io',
      'release-configmaps.gloo-guard.io',
      'namespaces.gloo-guard.io',
      'deployments.gloo-guard.io',
    ]);
  });

  it('when rendered with defaults, then every webhook calls the Service over /validate, fails closed in 5 s, without side effects', () => {
    for (const w of vwc(objs).webhooks) {
      expect(w.clientConfig).toEqual({
        service: { name: FULLNAME, namespace: NAMESPACE, path: '/validate', port: 443 },
      });
      expect(w.sideEffects).toBe('None');
      expect(w.admissionReviewVersions).toEqual(['v1']);
      expect(w.failurePolicy).toBe('Fail');
      expect(w.timeoutSeconds).toBe(5);
      expect(w.matchPolicy).toBe('Equivalent');
    }
  });

  it('when Helm writes a release Secret, then only its CREATE of a helm.sh/release.v1 Secret owned by helm is sent', () => {
    const w = hook(objs, 'releases.gloo-guard.io');
    expect(w.rules).toEqual([
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE'],
        resources: ['secrets'],
        scope: 'Namespaced',
      },
    ]);
    expect(w.objectSelector).toEqual({ matchLabels: { owner: 'helm' } });
    expect(w.matchConditions).toEqual([
      { name: 'helm-release', expression: "has(object.type) && object.type == 'helm.sh/release.v1'" },
    ]);
  });

  it('when Namespaces and Deployments are written, then CREATE and UPDATE are sent, never for an object being deleted', () => {
    expect(hook(objs, 'namespaces.gloo-guard.io').rules).toEqual([
      {
        apiGroups: [''],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['namespaces'],
        scope: 'Cluster',
      },
    ]);
    expect(hook(objs, 'deployments.gloo-guard.io').rules).toEqual([
      {
        apiGroups: ['apps'],
        apiVersions: ['v1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['deployments'],
        scope: 'Namespaced',
      },
    ]);
    for (const name of ['namespaces.gloo-guard.io', 'deployments.gloo-guard.io']) {
      expect(hook(objs, name).matchConditions.map((c: Json) => c.name)).toEqual([
        'not-being-deleted',
        'judged-by-a-policy',
      ]);
      expect(hook(objs, name).matchConditions[0]).toEqual({
        name: 'not-being-deleted',
        expression: '!has(object.metadata.deletionTimestamp)',
      });
    }
  });

  it('when an object is in kube-system or the webhook namespace, then no webhook is called for it', () => {
    for (const w of vwc(objs).webhooks) {
      expect(w.namespaceSelector).toEqual({
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE] },
        ],
      });
      expect(selects(w.namespaceSelector, nsLabels('kube-system'))).toBe(false);
      expect(selects(w.namespaceSelector, nsLabels(NAMESPACE))).toBe(false);
      expect(selects(w.namespaceSelector, nsLabels('gloo-mesh'))).toBe(true);
    }
  });

  it('when the Namespace object kube-system itself is updated, then the namespace webhook is not called', () => {
    // For a Namespace the selector is matched against that Namespace's own labels; the API server
    // always sets kubernetes.io/metadata.name to the name, so a label cannot smuggle it back in.
    const w = hook(objs, 'namespaces.gloo-guard.io');
    expect(selects(w.namespaceSelector, { ...nsLabels('kube-system'), team: 'platform' })).toBe(false);
    expect(selects(w.namespaceSelector, nsLabels(NAMESPACE))).toBe(false);
    expect(selects(w.namespaceSelector, nsLabels('gloo-mesh-addons'))).toBe(true);
  });

  it('when failurePolicy, timeout and per-webhook overrides are set, then each webhook gets its own', () => {
    const custom = render(major, {
      set: ['failurePolicy=Ignore', 'timeoutSeconds=3', 'webhooks.releases.failurePolicy=Fail'],
    });
    expect(hook(custom, 'releases.gloo-guard.io').failurePolicy).toBe('Fail');
    expect(hook(custom, 'namespaces.gloo-guard.io').failurePolicy).toBe('Ignore');
    expect(hook(custom, 'deployments.gloo-guard.io').failurePolicy).toBe('Ignore');
    for (const w of vwc(custom).webhooks) expect(w.timeoutSeconds).toBe(3);
  });

  it('when more namespaces are excluded, then they join the built-in exclusions once', () => {
    const custom = render(major, { set: ['webhooks.excludeNamespaces={cert-manager,kube-system}'] });
    for (const w of vwc(custom).webhooks) {
      expect(w.namespaceSelector.matchExpressions[0].values).toEqual([
        'kube-system',
        NAMESPACE,
        'cert-manager',
      ]);
    }
  });

  it('when the services webhook is enabled, then only the management server Service reaches it', () => {
    const w = hook(render(major, { set: ['webhooks.services.enabled=true'] }), 'services.gloo-guard.io');
    expect(w.rules[0]).toMatchObject({ resources: ['services'], operations: ['CREATE', 'UPDATE'] });
    expect(w.matchConditions).toContainEqual({
      name: 'judged-by-a-policy',
      expression: 'object.metadata.name in ["gloo-mesh-mgmt-server"]',
    });
  });

  it('when webhooks are disabled, then they are left out, and with none the configuration is not rendered', () => {
    const some = render(major, { set: ['webhooks.deployments.enabled=false'] });
    expect(vwc(some).webhooks.map((w: Json) => w.name)).toEqual([
      'releases.gloo-guard.io',
      'release-configmaps.gloo-guard.io',
      'namespaces.gloo-guard.io',
    ]);
    const none = render(major, {
      set: [
        'webhooks.releases.enabled=false',
        'webhooks.releaseConfigMaps.enabled=false',
        'webhooks.namespaces.enabled=false',
        'webhooks.deployments.enabled=false',
      ],
    });
    expect(none.filter((o) => o.kind === 'ValidatingWebhookConfiguration')).toEqual([]);
  });
});

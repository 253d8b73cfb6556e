// The webhooks for the GitOps carriers: rendered only where their API exists, each switched by a value.
import { describe, expect, it } from 'vitest';
import { all, FULLNAME, MAJORS, one, render, type Json, type K8sObject } from './helm.js';

const ARGO = 'argoproj.io/v1alpha1/Application';
const FLUX = 'helm.toolkit.fluxcd.io/v2/HelmRelease';
const names = (objs: K8sObject[]): string[] =>
  one(objs, 'ValidatingWebhookConfiguration', FULLNAME).webhooks.map((w: Json) => w.name as string);
const hook = (objs: K8sObject[], name: string): Json =>
  one(objs, 'ValidatingWebhookConfiguration', FULLNAME).webhooks.find((w: Json) => w.name === name);

describe.each(MAJORS)('carrier webhooks (helm %s)', (major) => {
  it('when the cluster serves neither Argo CD nor Flux, then only the release ConfigMap webhook is added', () => {
    const n = names(render(major));
    expect(n).toContain('release-configmaps.gloo-guard.io');
    expect(n).not.toContain('applications.gloo-guard.io');
    expect(n).not.toContain('helmreleases.gloo-guard.io');
  });

  it('when the cluster serves Application and HelmRelease (v2 or v2beta2), then their webhooks are rendered', () => {
    expect(names(render(major, { apiVersions: [ARGO, FLUX] }))).toEqual(
      expect.arrayContaining(['applications.gloo-guard.io', 'helmreleases.gloo-guard.io']),
    );
    expect(names(render(major, { apiVersions: ['helm.toolkit.fluxcd.io/v2beta2/HelmRelease'] }))).toContain(
      'helmreleases.gloo-guard.io',
    );
  });

  it('when a carrier webhook is switched off by its value, then it is not rendered', () => {
    const objs = render(major, {
      apiVersions: [ARGO, FLUX],
      set: [
        'webhooks.applications.enabled=false',
        'webhooks.helmReleases.enabled=false',
        'webhooks.releaseConfigMaps.enabled=false',
      ],
    });
    expect(names(objs)).toEqual([
      'releases.gloo-guard.io',
      'namespaces.gloo-guard.io',
      'deployments.gloo-guard.io',
    ]);
  });

  it('when Applications are judged, then only spec changes of Applications that install a judged chart are sent', () => {
    const w = hook(render(major, { apiVersions: [ARGO] }), 'applications.gloo-guard.io');
    expect(w.rules).toEqual([
      {
        apiGroups: ['argoproj.io'],
        apiVersions: ['v1alpha1'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['applications'],
        scope: 'Namespaced',
      },
    ]);
    const conditions = Object.fromEntries(w.matchConditions.map((c: Json) => [c.name, c.expression]));
    expect(conditions['spec-changed']).toContain('object.spec != oldObject.spec');
    expect(conditions['installs-a-judged-chart']).toContain("'gloo-platform'");
  });

  it('when release ConfigMaps are judged, then only CREATEs of ConfigMaps owned by helm with data.release are sent', () => {
    const w = hook(render(major), 'release-configmaps.gloo-guard.io');
    expect(w.rules[0].operations).toEqual(['CREATE']);
    expect(w.rules[0].resources).toEqual(['configmaps']);
    expect(w.objectSelector).toEqual({ matchLabels: { owner: 'helm' } });
    expect(w.matchConditions[0].expression).toBe("has(object.data) && 'release' in object.data");
  });
});

describe.each(MAJORS)('RBAC for Flux valuesFrom at admission (helm %s)', (major) => {
  it('when valuesFromNamespaces are named with the cluster view, then each gets a Role to get ConfigMaps and Secrets, and no other namespace does', () => {
    const objs = render(major, {
      set: ['clusterView.enabled=true', 'webhooks.helmReleases.valuesFromNamespaces={flux-apps,team-a}'],
    });
    const roles = all(objs, 'Role').filter((r) => r.metadata.name === `${FULLNAME}-values-from`);
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['flux-apps', 'team-a']);
    expect(roles[0]?.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get'] },
    ]);
    const bindings = all(objs, 'RoleBinding').filter((r) => r.metadata.name === `${FULLNAME}-values-from`);
    expect(bindings.map((b) => b.subjects[0].name)).toEqual([FULLNAME, FULLNAME]);
  });

  it('when the cluster view is off or none are named, then no Secret or ConfigMap access is rendered for it', () => {
    const off = render(major, { set: ['webhooks.helmReleases.valuesFromNamespaces={flux-apps}'] });
    const none = render(major, { set: ['clusterView.enabled=true'] });
    for (const objs of [off, none])
      expect(all(objs, 'Role').map((r) => r.metadata.name)).not.toContain(`${FULLNAME}-values-from`);
  });
});

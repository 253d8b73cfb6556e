import type { ClusterView, DeploymentSubject, Flag, Policy, PolicyViolation } from '../engine/types.js';
import { ambiguousFlag, violation } from './util.js';

/** Deployments that mark a workload mesh: istiod of any revision, or a Gloo Mesh agent. */
function meshWorkloads(cluster: ClusterView): string[] {
  return cluster
    .deployments()
    .filter((d) => d.name === 'gloo-mesh-agent' || d.labels.app === 'istiod' || /^istiod(-.+)?$/.test(d.name))
    .map((d) => `${d.namespace}/${d.name}`);
}

function isMeshWorkload(name: string, labels: Record<string, string>): boolean {
  return name === 'gloo-mesh-agent' || labels.app === 'istiod' || /^istiod(-.+)?$/.test(name);
}

/** A mesh workload added to a management cluster, or a management server added to a mesh cluster. */
function deploymentFindings(subject: DeploymentSubject, cluster: ClusterView): PolicyViolation[] {
  const labels = subject.object.metadata?.labels ?? {};
  // Every istiod and agent change asks this: an index lookup, not a scan of every Deployment.
  const mgmt = cluster.deploymentsNamed('gloo-mesh-mgmt-server');
  if (isMeshWorkload(subject.name, labels) && mgmt.length > 0) {
    return [
      violation(
        `${subject.name} would run in a management cluster (${mgmt.map((d) => `${d.namespace}/${d.name}`).join(', ')} runs here)`,
        'metadata.name',
        FIX,
      ),
    ];
  }
  if (subject.name === 'gloo-mesh-mgmt-server') {
    const mesh = meshWorkloads(cluster);
    if (mesh.length > 0)
      return [
        violation(
          `the management server would share a cluster with ${mesh.join(', ')}`,
          'metadata.name',
          FIX,
        ),
      ];
  }
  return [];
}

const FIX = 'run the management plane in a dedicated cluster and install agents only in workload clusters';

/** Refuses a management plane that shares its cluster with a workload mesh. */
export const dedicatedManagementCluster: Policy = {
  id: 'dedicated-management-cluster',
  title: 'The management plane runs in a dedicated cluster',
  severity: 'medium',
  defaultAction: 'deny',
  description:
    'In production the vendor installs the management plane in a dedicated cluster, never in a workload cluster ' +
    'that runs a service mesh (noisy neighbours, blast radius). A release that enables both the management server ' +
    'and an agent, or registers the management cluster as a workload cluster, is refused. With a cluster view, a ' +
    'management plane in a cluster that runs istiod or a Gloo Mesh agent is refused too, and so is an istiod or ' +
    'agent added to a management cluster.',
  remediation: FIX,
  appliesTo: ['release', 'deployment'],
  match: {
    deployment: [
      { names: ['gloo-mesh-agent', 'gloo-mesh-mgmt-server', 'istiod*'] },
      { labels: { app: 'istiod' } },
    ],
  },
  validate(subject, ctx): PolicyViolation[] {
    if (subject.kind === 'deployment') return ctx.cluster ? deploymentFindings(subject, ctx.cluster) : [];
    if (subject.kind !== 'release') return [];
    // The switches that decide a release's roles: a non-boolean Helm reads two ways is reported here.
    const { mgmtServer, agent: agentModel } = subject.model;
    const unclear = [mgmtServer?.enabled, agentModel?.enabled, ...(mgmtServer?.registersItself ?? [])].filter(
      (f): f is Flag => f?.ambiguous === true,
    );
    if (!subject.model.roles.management) return unclear.map(ambiguousFlag);
    const out: PolicyViolation[] = unclear.map(ambiguousFlag);
    const agent = subject.model.agent;
    if (agent?.enabled.value && !agent.enabled.ambiguous) {
      out.push(
        violation(
          'the release enables both the management server and an agent',
          agent.enabled.path,
          `set ${agent.enabled.path}: false and install agents only in workload clusters`,
        ),
      );
    }
    for (const s of subject.model.mgmtServer?.registersItself ?? []) {
      if (s.value && !s.ambiguous)
        out.push(
          violation(
            'the management cluster registers itself as a workload cluster',
            s.path,
            `set ${s.path}: false`,
          ),
        );
    }
    const mesh = ctx.cluster ? meshWorkloads(ctx.cluster) : [];
    if (mesh.length > 0)
      out.push(
        violation(`the management plane would share a cluster with ${mesh.join(', ')}`, 'cluster', FIX),
      );
    return out;
  },
};

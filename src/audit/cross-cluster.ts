/** Findings that only appear when several clusters are audited together. */
import type { ClusterAudit } from './audit.js';

/** A finding about the set of clusters, not one object. */
export interface CrossClusterFinding {
  policy: 'cross-cluster';
  action: 'warn';
  message: string;
  clusters: string[];
}

function host(address: string): string {
  const noScheme = address.replace(/^[a-z]+:\/\//i, '');
  const bracketed = /^\[([^\]]+)\]/.exec(noScheme);
  if (bracketed) return bracketed[1] ?? noScheme;
  return noScheme.split('/')[0]?.replace(/:\d+$/, '') ?? noScheme;
}

function isManagement(a: ClusterAudit): boolean {
  return a.role === 'management' || a.role === 'management+workload';
}

/** Two management planes in one set, and agents whose relay address reaches no management cluster of the set. */
export function crossClusterFindings(audits: ClusterAudit[]): CrossClusterFinding[] {
  const out: CrossClusterFinding[] = [];
  const mgmt = audits.filter(isManagement);
  if (mgmt.length > 1) {
    const names = mgmt.map((a) => a.cluster);
    out.push({
      policy: 'cross-cluster',
      action: 'warn',
      message: `[cross-cluster] ${mgmt.length} management planes in one set (${names.join(', ')}) -> run one management plane and register every workload cluster with it`,
      clusters: names,
    });
  }
  if (mgmt.length === 0) return out;
  const known = new Set(mgmt.flatMap((a) => a.mgmtAddresses.map((x) => x.toLowerCase())));
  for (const a of audits) {
    for (const r of a.releases) {
      if (!r.roles.agent || r.relayServerAddress === undefined) continue;
      const h = host(r.relayServerAddress).toLowerCase();
      if (known.has(h)) continue;
      out.push({
        policy: 'cross-cluster',
        action: 'warn',
        message: `[cross-cluster] agent release ${r.namespace}/${r.name} in ${a.cluster} relays to ${r.relayServerAddress}, which is no management cluster of this set (${mgmt.map((m) => m.cluster).join(', ')}) -> point relay.serverAddress at the management server's address`,
        clusters: [a.cluster],
      });
    }
  }
  return out;
}

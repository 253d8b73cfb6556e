// Starts one real kube-apiserver + etcd for the whole e2e run and stops it afterwards, even on failure.
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from './cluster/cluster.js';

let cluster: Cluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  cluster = await startCluster({ log: (s) => process.stderr.write(`${s}\n`) });
  process.stderr.write(
    `[e2e] cluster ready at ${cluster.server} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  project.provide('cluster', {
    kubeconfigPath: cluster.kubeconfigPath,
    server: cluster.server,
    caPem: cluster.caPem,
    servingCertPem: cluster.servingCertPem,
    servingKeyPem: cluster.servingKeyPem,
  });
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: {
      kubeconfigPath: string;
      server: string;
      caPem: string;
      servingCertPem: string;
      servingKeyPem: string;
    };
  }
}

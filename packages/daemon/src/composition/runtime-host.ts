import { join } from 'node:path';
import {
  agentBinDir,
  CgroupProbe,
  gvisorRuntimeFlags,
  LeanSpawner,
  NetnsNetwork,
  OciRuntime,
  runcRunFlags,
  SandboxEngine,
  type SandboxHost,
  stageAgentBinaries,
  unstageAgentBinaries,
} from '@paddock/engine';
import type { DaemonConfig } from '../config/daemon-config.js';
import { EgressNetwork } from '../network/egress-network.js';
import type { EgressProxy } from '../network/egress-proxy.js';
import type { NetworkService } from '../network/network-service.js';
import type { SandboxStore } from '../store/sandbox-store.js';
import { findExecutable } from '../tiers/find-executable.js';
import type { ShutdownSteps } from './shutdown-steps.js';

/** What a sandbox host is built from: the daemon's config and the parts it works with. */
export interface SandboxHostContext {
  config: DaemonConfig;
  sandboxesDir: string;
  egress: EgressProxy;
  network: NetworkService;
  sandboxStore: SandboxStore;
  shutdown: ShutdownSteps;
}

export type SandboxHostFactory = (context: SandboxHostContext) => Promise<SandboxHost>;

/**
 * Network namespaces made ahead of the creates that take them: one create in a
 * row gets its namespace at once, the next while the first's is being replaced.
 */
const spareNetworkNamespaces = 2;

/** The real one: runc (and runsc when installed), network namespaces behind the egress proxy, cgroups, the static agent. */
export const createRuntimeHost: SandboxHostFactory = async ({ config, sandboxesDir, egress, network, sandboxStore, shutdown }) => {
  // Sandboxes bind a copy of the agent binaries on a tmpfs: their mount table names no host folder.
  const agentDir = join(config.stateDir, 'agent');
  shutdown.add('agent-binaries', () => unstageAgentBinaries(agentDir));
  await stageAgentBinaries(agentBinDir(), agentDir);
  // runc, mounts and network setup are spawned from a small helper: a fork from the daemon copies its page tables.
  const spawner = new LeanSpawner();
  shutdown.add('spawner', () => spawner.stop());
  const namespaces = new NetnsNetwork(sandboxesDir, spawner, { spares: spareNetworkNamespaces });
  shutdown.add('netns-spares', () => namespaces.stop());
  await namespaces.start();
  const engine = new SandboxEngine({
    sandboxesDir,
    agentBinDir: agentDir,
    runtimes: {
      container: new OciRuntime({ binary: config.runcBinary, root: config.runcRoot, runArgs: runcRunFlags, pidIsContainerInit: true, spawner }),
      ...(findExecutable(config.runscBinary)
        ? { gvisor: new OciRuntime({ binary: config.runscBinary, root: config.runscRoot, globalArgs: gvisorRuntimeFlags, spawner }) }
        : {}),
    },
    network: new EgressNetwork(namespaces, egress, network),
    spawner,
    cgroups: new CgroupProbe(),
    cgroupParent: config.cgroupParent,
    layerBlanksDir: join(config.stateDir, 'layer-blanks'),
    testSeccompAllowed: config.testWeakening.seccompAllowed,
  });
  shutdown.add('cgroup-parent', () => {
    if (sandboxStore.live().length === 0) engine.releaseCgroupParent();
  });
  return engine;
};

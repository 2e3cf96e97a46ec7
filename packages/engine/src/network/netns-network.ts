import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { netnsHelperPath } from '../agent/agent-binaries.js';
import type { LeanSpawner } from '../host/lean-spawner.js';
import { runHostCommand } from '../host/run-host-command.js';
import { unmountAll } from '../rootfs/sandbox-rootfs.js';
import type { NetworkAttachment, NetworkProvider, NetworkRequest } from './network-provider.js';

/** Where the egress relay listens on a sandbox's loopback (see paddock-egress.c). */
export const egressPorts = { proxy: 3128, http: 15001, tls: 15002, dns: 53 } as const;

/** The relay's socket in the sandbox's run folder; the daemon listens on it. */
export const egressSocketName = 'egress.sock';

const proxyUrl = `http://127.0.0.1:${egressPorts.proxy}`;
const noProxy = 'localhost,127.0.0.1,::1';

/** Proxy-aware clients (curl, pip, npm, requests, git) read these; both spellings, as tools differ. */
export const proxyEnv: Record<string, string> = {
  HTTP_PROXY: proxyUrl,
  HTTPS_PROXY: proxyUrl,
  http_proxy: proxyUrl,
  https_proxy: proxyUrl,
  NO_PROXY: noProxy,
  no_proxy: noProxy,
};

/** Every name is asked of the relay on the sandbox's own loopback, which asks the daemon. */
export const resolvConf = 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n';

/**
 * The sandbox's namespace has loopback and a veth whose other end is in the
 * same namespace and down: a route out exists (so connect() gets as far as
 * the nat hook), yet no packet can leave. TCP to 80/443 is redirected to the
 * relay, DNS too; every other TCP connect is redirected to a closed port
 * (refused at once, instead of hanging); whatever would leave by the veth is
 * dropped, so UDP and ICMP fail with EPERM. (Answers to redirected
 * connections go to the veth's own address: they leave by lo.) Root inside the sandbox cannot change any of it:
 * the namespace belongs to the host's user namespace.
 */
const ruleset = `table inet paddock {
  chain steer {
    type nat hook output priority -100; policy accept;
    ip daddr 127.0.0.0/8 accept
    ip6 daddr ::1 accept
    tcp dport 80 redirect to :${egressPorts.http}
    tcp dport 443 redirect to :${egressPorts.tls}
    meta l4proto { tcp, udp } th dport 53 redirect to :${egressPorts.dns}
    meta l4proto tcp redirect to :1
  }
  chain leave {
    type filter hook output priority 0; policy drop;
    oifname "lo" accept
    ip daddr 127.0.0.0/8 accept
    ip6 daddr ::1 accept
  }
}
`;

/**
 * Per-sandbox network namespaces whose only way out is the egress relay (see
 * paddock-egress.c), persisted as a bind mount in the sandbox's folder so a
 * restarted daemon finds it. gVisor sandboxes need none: runsc runs its own
 * network stack with loopback only, and the relay inside it reaches the
 * daemon over a host socket.
 */
export class NetnsNetwork implements NetworkProvider {
  constructor(
    private readonly sandboxesDir: string,
    /** Starts paddock-netns and paddock-mount from a small helper process (see LeanSpawner). */
    private readonly spawner?: LeanSpawner,
  ) {}

  async attach(request: NetworkRequest): Promise<NetworkAttachment> {
    const files = { '/etc/resolv.conf': resolvConf };
    if (request.mode === 'none') return { files };
    const attachment: NetworkAttachment = { files, env: { ...proxyEnv }, egress: true };
    if (request.tier === 'gvisor') return attachment;
    await this.makeNamespace(request.id);
    return { ...attachment, netnsPath: this.netnsPath(request.id), sysfsPath: this.sysfsPath(request.id) };
  }

  mountsOf(sandboxId: string): string[] {
    return [this.sysfsPath(sandboxId), this.netnsPath(sandboxId)];
  }

  async detach(sandboxId: string, options: { unmounted?: boolean } = {}): Promise<void> {
    const paths = this.mountsOf(sandboxId).filter((path) => existsSync(path));
    if (!paths.length) return;
    if (!options.unmounted) await unmountAll(paths, this.spawner);
    await Promise.all(paths.map((path) => rm(path, { force: true, recursive: true })));
  }

  private sysfsPath(id: string): string {
    return join(this.sandboxesDir, id, 'sys');
  }

  private netnsPath(id: string): string {
    return join(this.sandboxesDir, id, 'netns');
  }

  private async makeNamespace(id: string): Promise<void> {
    const path = this.netnsPath(id);
    await mkdir(join(this.sandboxesDir, id), { recursive: true, mode: 0o711 });
    await Promise.all([writeFile(path, ''), mkdir(this.sysfsPath(id))]);
    try {
      await runHostCommand(netnsHelperPath(), [path, ruleset, this.sysfsPath(id)], {
        timeoutMs: 10_000,
        spawner: this.spawner,
      });
    } catch (err) {
      await this.detach(id);
      throw err;
    }
  }
}

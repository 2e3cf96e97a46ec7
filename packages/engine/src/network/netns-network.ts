import { randomBytes } from 'node:crypto';
import { existsSync, renameSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
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

/** The folder of spare namespaces in the sandboxes' folder: a name no sandbox id has (they never start with a dot). */
export const spareNamespacesFolder = '.netns-spares';

export interface NetnsNetworkOptions {
  /**
   * Namespaces kept made ahead, each taken whole by the next create that needs
   * one (0: each is made on its create's path). Making one is a process start,
   * a new namespace, a veth pair, the ruleset and a sysfs mount: ~5 ms.
   */
  spares?: number;
  /**
   * How long after a spare is taken its replacement is begun. Made at once, it
   * ran beside the create that took the spare and slowed its `runc run` by
   * ~2 ms on two cores; a container create is up in ~45 ms.
   */
  refillDelayMs?: number;
}

/**
 * Per-sandbox network namespaces whose only way out is the egress relay (see
 * paddock-egress.c), persisted as a bind mount in the sandbox's folder so a
 * restarted daemon finds it. gVisor sandboxes need none: runsc runs its own
 * network stack with loopback only, and the relay inside it reaches the
 * daemon over a host socket.
 */
export class NetnsNetwork implements NetworkProvider {
  private readonly sparesDir: string;
  /** Spare folders, each holding a made namespace (netns) and its sysfs (sys), oldest first. */
  private readonly ready: string[] = [];
  private making: Promise<void> | undefined;
  private refillTimer: NodeJS.Timeout | undefined;
  /** False once stopped, or once a spare could not be made (a create then makes its own and reports why). */
  private refilling = false;

  constructor(
    private readonly sandboxesDir: string,
    /** Starts paddock-netns and paddock-mount from a small helper process (see LeanSpawner). */
    private readonly spawner?: LeanSpawner,
    private readonly options: NetnsNetworkOptions = {},
  ) {
    this.sparesDir = join(sandboxesDir, spareNamespacesFolder);
  }

  /**
   * Removes the spares a previous daemon left behind, then makes new ones in
   * the background. One that cannot be removed stays where it is (the new
   * spares have names of their own): it holds a namespace, not a daemon's start.
   */
  async start(): Promise<void> {
    const left = await readdir(this.sparesDir).catch(() => []);
    await this.removeSpares(left.map((name) => join(this.sparesDir, name))).catch(() => {});
    await mkdir(this.sparesDir, { recursive: true, mode: 0o700 });
    this.refilling = true;
    this.refill();
  }

  /** Stops making spares and removes those no sandbox took. */
  async stop(): Promise<void> {
    this.refilling = false;
    clearTimeout(this.refillTimer);
    await this.making;
    await this.removeSpares(this.ready.splice(0));
  }

  async attach(request: NetworkRequest): Promise<NetworkAttachment> {
    const files = { '/etc/resolv.conf': resolvConf };
    if (request.mode === 'none') return { files };
    const attachment: NetworkAttachment = { files, env: { ...proxyEnv }, egress: true };
    if (request.tier === 'gvisor') return attachment;
    if (!this.takeSpare(request.id)) await this.makeNamespace(request.id);
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

  /**
   * A spare's folder, renamed to be the sandbox's folder (its mounts move with
   * it). Done before this attach's first await: the engine prepares the root
   * beside the attach, in the same folder, and finds it made. False when no
   * spare is ready, or the folder exists already (its spare is removed).
   */
  private takeSpare(id: string): boolean {
    const spare = this.ready.shift();
    if (!spare) return false;
    this.refillSoon();
    try {
      renameSync(spare, join(this.sandboxesDir, id));
      return true;
    } catch {
      this.removeSpares([spare]).catch(() => {});
      return false;
    }
  }

  private refillSoon(): void {
    if (this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.refill();
    }, this.options.refillDelayMs ?? 50);
    this.refillTimer.unref();
  }

  /** Makes spares, one at a time, until the target number is ready. */
  private refill(): void {
    const target = this.options.spares ?? 0;
    if (this.making || !this.refilling || this.ready.length >= target) return;
    this.making = (async () => {
      while (this.refilling && this.ready.length < target) {
        const dir = join(this.sparesDir, randomBytes(6).toString('hex'));
        await mkdir(dir, { mode: 0o711 });
        try {
          await this.makeNamespaceIn(dir);
        } catch (err) {
          await rm(dir, { recursive: true, force: true });
          throw err;
        }
        this.ready.push(dir);
      }
    })()
      .catch(() => {
        this.refilling = false;
      })
      .finally(() => {
        this.making = undefined;
      });
  }

  private async removeSpares(dirs: string[]): Promise<void> {
    if (!dirs.length) return;
    await unmountAll(
      dirs.flatMap((dir) => [join(dir, 'sys'), join(dir, 'netns')]),
      this.spawner,
    );
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  private async makeNamespace(id: string): Promise<void> {
    const dir = join(this.sandboxesDir, id);
    await mkdir(dir, { recursive: true, mode: 0o711 });
    try {
      await this.makeNamespaceIn(dir);
    } catch (err) {
      await this.detach(id);
      throw err;
    }
  }

  /** paddock-netns: the namespace bound to <dir>/netns, its sysfs mounted at <dir>/sys. */
  private async makeNamespaceIn(dir: string): Promise<void> {
    const [netns, sysfs] = [join(dir, 'netns'), join(dir, 'sys')];
    await Promise.all([writeFile(netns, ''), mkdir(sysfs)]);
    await runHostCommand(netnsHelperPath(), [netns, ruleset, sysfs], { timeoutMs: 10_000, spawner: this.spawner });
  }
}

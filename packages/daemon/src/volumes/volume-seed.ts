import { BadRequestError, type VolumeCreate } from '@paddock/core';
import type { ProcessManager } from '../commands/process-manager.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';

export interface VolumeSeedDeps {
  sandboxes: SandboxService;
  processes: ProcessManager;
  /** A static busybox on the host, lent to the copying sandbox (a template may have no cp). */
  busybox: string;
}

/** The label that names a copying sandbox in the tenant's list, while it lives. */
const volumeSeedLabel = 'paddock.volume-seed';
const seedIn = '/.paddock/seed';
const busyboxIn = '/.paddock/seed-tools/busybox';
/** How long a copy may take before it is given up (and the volume with it). */
const seedTimeoutMs = 30 * 60_000;
/**
 * Copies the contents of $2 into $3 with busybox $1, keeping owners, modes
 * and links; the volume's root keeps its own owner and mode (the sandbox's
 * user may write there), whatever the template's folder had.
 */
const copyScript = 'b=$1; own=$($b stat -c %u:%g "$3") && mode=$($b stat -c %a "$3") && $b cp -a "$2/." "$3/" && $b chown "$own" "$3" && $b chmod "$mode" "$3"';

/**
 * Fills a new volume's root with a copy of a template's folder. The copy is
 * made inside a sandbox of the template (no network, no start command) that
 * sees the volume's root: the template's files (an image's, say) are hostile
 * to the host, and inside a sandbox its links and owners are the sandbox's
 * business. The sandbox counts against the tenant's quotas while it copies.
 */
export async function fillFromTemplate(
  deps: VolumeSeedDeps,
  tenant: string,
  from: NonNullable<VolumeCreate['from']>,
  root: string,
  signal?: AbortSignal,
): Promise<void> {
  const sandbox = await deps.sandboxes.create(
    tenant,
    { template: from.template, network: { mode: 'none' }, startCommand: false, timeoutMs: seedTimeoutMs, metadata: { [volumeSeedLabel]: from.template } },
    {
      signal,
      hostMounts: [
        { path: seedIn, source: root, writable: true },
        { path: busyboxIn, source: deps.busybox, writable: false },
      ],
    },
  );
  try {
    const proc = await deps.processes.start(
      sandbox,
      { cmd: [busyboxIn, 'sh', '-c', copyScript, 'seed', busyboxIn, from.path, seedIn], user: 'root', cwd: '/' },
      { signal },
    );
    const exit = await proc.done;
    if (exit.exitCode !== 0) {
      const why = proc.stderr.bytes().toString().trim().split('\n').at(-1)?.slice(0, 300) || `cp exited with code ${exit.exitCode}`;
      throw new BadRequestError(
        `cannot copy ${from.template}:${from.path} into the volume: ${why}`,
        { template: from.template, path: from.path },
        'volume_fill_failed',
      );
    }
  } finally {
    await deps.sandboxes.kill(tenant, sandbox.id).catch(() => {});
  }
}

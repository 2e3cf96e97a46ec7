import { join } from 'node:path';
import { egressSocketName } from '@paddock/engine';
import type { Logger } from 'pino';
import type { DaemonParts } from './create-services.js';

/**
 * Picks up what a previous daemon on this state folder left, after a clean
 * stop or a crash alike. It runs once, after every part is built and before
 * the API listens, so no request sees a half-recovered daemon.
 *
 * What it assumes:
 * - This process holds the state folder's lock: no other daemon is adopting
 *   or killing the same sandboxes.
 * - The database says what should exist; the runtimes and the sandboxes'
 *   folders say what does. A sandbox is adopted only when its runtime runs
 *   it and its agent answers (a paused one is not asked); every other live
 *   record is ended as lost, and whatever the host has that the database does
 *   not know is removed. Each check is bounded, so one sandbox that never
 *   answers does not hold the start.
 * - Commands outlive the daemon inside their sandbox's agent: a running
 *   sandbox's commands are re-attached, with the output the agent kept. Code
 *   contexts are such commands (a driver with its kernel): they are listed
 *   again with their state, and their next cells go to the same kernels.
 * - A proxied sandbox's relay survives, but the host end of its egress
 *   socket died with the previous process: it is listened on again.
 * - A gateway server's sandbox does not survive usefully (its stdin was the
 *   previous process's): it is killed and its server started afresh.
 * - Warm pools are filled back to their size; layers left by an interrupted
 *   build, which no template uses, are removed.
 * - Volumes are ext4 images on loop devices, mounted on the host: a daemon
 *   killed (even -9) leaves them mounted and a running sandbox keeps its bind
 *   of them; after a reboot they are mounted again here, before any sandbox
 *   is adopted or made. The database names the volumes; an image or mount
 *   folder it does not name (a create or remove the previous daemon died in)
 *   is removed, and mounts of sandboxes that ended are forgotten once the
 *   sandboxes are reconciled.
 * - A disk-backed writable layer is an ext4 image in its sandbox's folder,
 *   mounted on a loop device that frees itself at its unmount (autoclear) or,
 *   before the mount, when the process that set it up dies: a daemon killed
 *   (even -9) mid-create leaves no loop device without a mount. A running
 *   sandbox keeps its layer mounted across the restart and is adopted with
 *   it; a lost one, or a folder no record names, is destroyed like any other,
 *   and its unmount frees the loop device before the folder and image go.
 *   Blanks left half made in layer-blanks/ are removed the next time one is made.
 * - The audit anchors' chain was already taken up when the parts were built
 *   (AuditHeads continues from the newest anchored head and says at once if
 *   the anchor log falls short of the database).
 */
export async function recover(parts: DaemonParts, logger: Logger): Promise<void> {
  const { services, engine, sandboxStore, egress } = parts;
  // Before the sandboxes: no volume is mounted into a sandbox until then, and pruning mounts needs their states settled.
  const volumes = await services.volumes.recover();
  if (volumes.mounted.length || volumes.orphans.length) logger.info(volumes, 'recovered volumes');
  await services.sandboxes.reconcile();
  services.volumes.forgetEndedMounts();
  // Code contexts are drivers re-attached as commands by the reconcile: their contexts are taken back with them.
  for (const record of sandboxStore.live()) services.code.adopt(record.id);
  for (const record of sandboxStore.live()) {
    if (services.network.get(record.id)?.mode !== 'proxy') continue;
    const paths = engine.paths(record.id);
    await egress
      .listen(record.id, join(paths.runDir, egressSocketName), paths.scratch)
      .catch((err) => logger.error({ err, sandbox: record.id }, 'egress socket not reopened'));
  }
  services.pools.start();
  await services.gateway.start();
  const orphans = await services.templates.removeOrphanLayers();
  if (orphans.length) logger.info({ orphans }, 'removed layers no template uses');
}

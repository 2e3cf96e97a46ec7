import type { Command } from 'commander';
import { lazyAction } from '../program/lazy-action.js';

/** `paddock gc`: removes layers nothing uses; prints what went. */
export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description('remove layers no template uses, fork layers no sandbox uses and build cache layers nothing uses (admin); never a layer in use')
    .action(
      lazyAction(async () => async (_flags: object, command: Command) => {
        const [{ collectGarbage }, { connectionFor }] = await Promise.all([import('@paddock/sdk'), import('../connection/connection-for.js')]);
        const result = await collectGarbage(connectionFor(command));
        const gone = [
          ...result.removedForkLayers.map((n) => `fork layer ${n}`),
          ...result.removedLayers.map((n) => `layer ${n}`),
          ...result.removedCacheLayers.map((n) => `build cache layer ${n}`),
        ];
        process.stdout.write(gone.length ? `${gone.join('\n')}\n` : 'nothing to remove\n');
      }),
    );
}

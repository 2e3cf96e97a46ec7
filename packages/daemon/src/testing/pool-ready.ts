import { type ConnectionOptions, Pools } from '@paddock/sdk';

/** How many sandboxes a pool has ready, as the API lists it; undefined when there is no such pool. */
export async function poolReady(conn: ConnectionOptions, id: string): Promise<number | undefined> {
  return (await Pools.list(conn)).find((p) => p.id === id)?.ready;
}

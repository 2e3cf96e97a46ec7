import type { PoolInfo } from '@paddock/core';
import type { HttpApi } from './bench-daemon.js';

/** A warm pool of `base` sandboxes the bench made for some rows, removed when they are done. */
export interface BenchPool {
  readonly id: string;
  /** Resolves once every sandbox of the pool is ready, so a timed claim is a hit and no refill runs beside it. */
  full(): Promise<void>;
  /** How many claims it served and missed so far. */
  stats(): Promise<{ hits: number; misses: number }>;
  remove(): Promise<void>;
}

export async function startBenchPool(api: HttpApi, size: number, options: { timeoutMs?: number } = {}): Promise<BenchPool> {
  const pool = await api.call<PoolInfo>('POST', '/v1/pools', { template: 'base', size });
  const current = async () => (await api.call<{ pools: PoolInfo[] }>('GET', '/v1/pools')).pools.find((p) => p.id === pool.id);
  return {
    id: pool.id,
    async full() {
      const deadline = performance.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        if (((await current())?.ready ?? 0) >= size) return;
        if (performance.now() > deadline) throw new Error(`the pool did not fill within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stats() {
      const info = await current();
      return { hits: info?.hits ?? 0, misses: info?.misses ?? 0 };
    },
    async remove() {
      await api.call('DELETE', `/v1/pools/${pool.id}`);
    },
  };
}

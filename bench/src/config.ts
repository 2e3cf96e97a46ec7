export interface BenchConfig {
  /** Rounds of the cold create benchmark (each round runs every variant once). */
  createIterations: number;
  /** Rounds of the exec benchmark. */
  execIterations: number;
  /** Runs of `paddock run -- true`. */
  cliIterations: number;
  /** Rounds of the teardown comparison. */
  teardownIterations: number;
  /** Idle sandboxes created for the memory figure. */
  idleSandboxes: number;
  /** Idle sandboxes alive at once for the density figure. */
  densitySandboxes: number;
  /** Unrecorded rounds before each timed series (create-type; exec gets 5× as many). */
  warmup: number;
  /** Holds the cached base layer (layers/base-…). */
  cacheDir: string;
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

export function loadBenchConfig(): BenchConfig {
  const createIterations = intFromEnv('BENCH_ITERATIONS', 30);
  return {
    createIterations,
    execIterations: intFromEnv('BENCH_EXEC_ITERATIONS', 200),
    cliIterations: intFromEnv('BENCH_CLI_ITERATIONS', createIterations),
    teardownIterations: intFromEnv('BENCH_TEARDOWN_ITERATIONS', Math.max(3, Math.round(createIterations / 3))),
    idleSandboxes: intFromEnv('BENCH_IDLE_SANDBOXES', 10),
    densitySandboxes: intFromEnv('BENCH_DENSITY_SANDBOXES', 500),
    warmup: intFromEnv('BENCH_WARMUP', 2, 0),
    cacheDir: process.env.PADDOCK_CACHE_DIR || '/var/cache/paddock',
  };
}

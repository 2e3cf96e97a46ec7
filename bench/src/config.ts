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
  /** Creates sent at once in the throughput section's burst. */
  burstCreates: number;
  /** Unrecorded rounds before each timed series (create-type; exec gets 5× as many). */
  warmup: number;
  /** NETWORK: recorded small requests per latency variant. */
  networkRequests: number;
  /** NETWORK: size of each timed download (MiB) and recorded downloads per variant. */
  networkDownloadMiB: number;
  networkDownloadRounds: number;
  /** IMAGES: size of the pushed image's data (MiB) and its rounds of pull + unpack (each also makes the first sandbox from it). */
  imageMiB: number;
  imageRounds: number;
  /** IMAGES: timed rebuilds of a Dockerfile whose every step is cached. */
  buildRounds: number;
  /** VOLUMES: size of each sequential write (MiB) and recorded writes per way. */
  volumeWriteMiB: number;
  volumeWriteRounds: number;
  /** PEERS: timed rounds of the one task (every peer once per round, after the warm-up rounds). */
  peerRounds: number;
  /** Sections to run (BENCH_ONLY=network,exec); null runs them all. */
  only: string[] | null;
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

function listFromEnv(name: string): string[] | null {
  const items = (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : null;
}

export function loadBenchConfig(): BenchConfig {
  const createIterations = intFromEnv('BENCH_ITERATIONS', 30);
  return {
    createIterations,
    execIterations: intFromEnv('BENCH_EXEC_ITERATIONS', 200),
    cliIterations: intFromEnv('BENCH_CLI_ITERATIONS', createIterations),
    teardownIterations: intFromEnv('BENCH_TEARDOWN_ITERATIONS', Math.max(3, Math.round(createIterations / 3))),
    idleSandboxes: intFromEnv('BENCH_IDLE_SANDBOXES', 10),
    densitySandboxes: intFromEnv('BENCH_DENSITY_SANDBOXES', 2000),
    burstCreates: intFromEnv('BENCH_BURST_CREATES', 200),
    warmup: intFromEnv('BENCH_WARMUP', 2, 0),
    networkRequests: intFromEnv('BENCH_NET_REQUESTS', 200),
    networkDownloadMiB: intFromEnv('BENCH_NET_DOWNLOAD_MIB', 256),
    networkDownloadRounds: intFromEnv('BENCH_NET_DOWNLOAD_ROUNDS', 3),
    imageMiB: intFromEnv('BENCH_IMAGE_MIB', 100),
    imageRounds: intFromEnv('BENCH_IMAGE_ROUNDS', 3),
    buildRounds: intFromEnv('BENCH_BUILD_ROUNDS', 10),
    volumeWriteMiB: intFromEnv('BENCH_VOLUME_WRITE_MIB', 256),
    volumeWriteRounds: intFromEnv('BENCH_VOLUME_WRITE_ROUNDS', 5),
    peerRounds: intFromEnv('BENCH_PEER_ROUNDS', 20),
    only: listFromEnv('BENCH_ONLY'),
    cacheDir: process.env.PADDOCK_CACHE_DIR || '/var/cache/paddock',
  };
}

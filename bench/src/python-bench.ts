import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { SandboxInfo } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { repoRoot } from './bench-daemon.js';
import type { BenchContext } from './benchmarks.js';
import { rotated } from './stats.js';
import { timedSpawnOk } from './timed-spawn.js';

const now = () => performance.now();
// Debian's python3, with the python3-* packages the SDK depends on, as the SDK's tests use it.
const python = '/usr/bin/python3';
const sdkDir = `${repoRoot}/sdks/python`;
const pythonEnv = () => ({ ...process.env, PYTHONPATH: sdkDir, PYTHONDONTWRITEBYTECODE: '1' });

/** A Python process holding both Python clients of one sandbox; each `time(way)` is one commands.run(["true"]), timed there. */
interface PythonDriver {
  time(way: 'sync' | 'async'): Promise<number>;
  close(): void;
}

async function startDriver(url: string, token: string, sandboxId: string): Promise<PythonDriver> {
  const child = spawn(python, [`${repoRoot}/bench/python/commands_driver.py`, url, token, sandboxId], {
    env: pythonEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the Python driver ended: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
    return line.value;
  };
  if ((await next()) !== 'ready') throw new Error('the Python driver did not say ready');
  return {
    async time(way) {
      child.stdin.write(`${way}\n`);
      return Number(await next());
    },
    close: () => child.kill(),
  };
}

/**
 * The Python SDK beside the TypeScript SDK: `commands.run(["true"])` in one
 * running sandbox through the TypeScript SDK, the Python sync client and the
 * Python async client, interleaved, each timed inside its own process; and
 * `import paddock` in a fresh Python, against Python's own start.
 */
export async function benchPython(ctx: BenchContext): Promise<void> {
  const { daemon, samples, config } = ctx;
  const sb = await daemon.api.call<SandboxInfo>('POST', '/v1/sandboxes', { template: 'base', timeoutMs: 30 * 60_000, network: { mode: 'none' } });
  let driver: PythonDriver | undefined;
  try {
    const ts = await Sandbox.connect(sb.id, { url: daemon.endpoint.url, token: daemon.token });
    driver = await startDriver(daemon.endpoint.url, daemon.token, sb.id);
    const py = driver;
    const ways: Array<{ name: string; run: () => Promise<number> }> = [
      {
        name: 'typescript',
        run: async () => {
          const t = now();
          await ts.commands.run(['true']);
          return now() - t;
        },
      },
      { name: 'sync', run: () => py.time('sync') },
      { name: 'async', run: () => py.time('async') },
    ];
    const warmup = config.warmup * 5;
    const n = config.execIterations;
    for (let round = 0; round < warmup + n; round++) {
      for (const way of rotated(ways, round)) {
        ctx.signal.throwIfAborted();
        const ms = await way.run();
        if (round >= warmup) samples.add(`python.run.${way.name}`, ms);
      }
      const done = round + 1 - warmup;
      if (done > 0 && (done % 50 === 0 || done === n)) ctx.progress(`  ${done}/${n} rounds`);
    }
  } finally {
    driver?.close();
    await daemon.api.call('DELETE', `/v1/sandboxes/${sb.id}`);
  }

  const importTimed = 'import time; t = time.perf_counter(); import paddock; print((time.perf_counter() - t) * 1000)';
  for (let round = 0; round < config.warmup + config.cliIterations; round++) {
    ctx.signal.throwIfAborted();
    const started = await timedSpawnOk(python, ['-c', 'pass'], { env: pythonEnv() });
    const imported = await timedSpawnOk(python, ['-c', importTimed], { env: pythonEnv() });
    if (round < config.warmup) continue;
    samples.add('python.start', started.totalMs);
    samples.add('python.import', Number(imported.stdout.trim()));
  }
}

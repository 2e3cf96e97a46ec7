import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { checkedSpawn, type PeerTiming, PeerUnavailable, type PeerWay, peerShellCommand, systemPath } from './peer-way.js';
import { timedSpawn } from './timed-spawn.js';

const packageName = '@anthropic-ai/sandbox-runtime';

export interface SrtPeerOptions {
  dir: string;
  cleanup: Cleanup;
  signal: AbortSignal;
}

/**
 * Anthropic's sandbox-runtime (bubblewrap, its network namespace removed,
 * traffic only through its own proxies) two ways, as its README shows them:
 * the `srt` CLI, one process per command (what a shell user runs), and the
 * library, initialised once in this process, each command wrapped and spawned
 * (what an agent embedding it does). No host is allowed; writes only to its
 * own working folder.
 */
export async function startSrtPeers(options: SrtPeerOptions): Promise<PeerWay[]> {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve(`${packageName}/package.json`));
  } catch {
    throw new PeerUnavailable(`${packageName} is not installed (npm ci)`);
  }
  const cli = join(packageDir, 'dist', 'cli.js');
  if (!existsSync(cli)) throw new PeerUnavailable(`${cli} is missing`);
  const work = join(options.dir, 'work');
  await mkdir(work, { recursive: true });
  // The CLI leaves its proxy's socket (srt-mux-<pid>-0.sock) in TMPDIR when it exits: keep them in our folder.
  const tmp = join(options.dir, 'tmp');
  await mkdir(tmp, { recursive: true });
  const config = {
    network: { allowedDomains: [] as string[], deniedDomains: [] as string[] },
    filesystem: { denyRead: [] as string[], allowWrite: [work], denyWrite: [] as string[] },
  };
  const settings = join(options.dir, 'srt-settings.json');
  await writeFile(settings, `${JSON.stringify(config)}\n`);

  const { SandboxManager } = await import('@anthropic-ai/sandbox-runtime');
  const deps = SandboxManager.checkDependencies();
  if (deps.errors.length) throw new PeerUnavailable(`srt cannot run here: ${deps.errors.join('; ')}`);
  await SandboxManager.initialize(config);
  options.cleanup.add("stop sandbox-runtime's proxies", () => SandboxManager.reset());

  const cliWay: PeerWay = {
    key: 'srtCli',
    run: async () =>
      checkedSpawn(
        'srt',
        await timedSpawn(process.execPath, [cli, '--settings', settings, '-c', peerShellCommand], {
          cwd: work,
          env: { ...process.env, PATH: systemPath, TMPDIR: tmp },
        }),
      ),
  };
  const libraryWay: PeerWay = {
    key: 'srtLibrary',
    run: async () => {
      const t0 = performance.now();
      const wrapped = await SandboxManager.wrapWithSandboxArgv(peerShellCommand, undefined, undefined, options.signal, work);
      const wrapMs = performance.now() - t0;
      const [file, ...args] = wrapped.argv;
      if (!file) throw new Error('srt wrapped the command into nothing');
      let r: PeerTiming;
      try {
        r = checkedSpawn('srt (library)', await timedSpawn(file, args, { cwd: work, env: { ...wrapped.env, PATH: systemPath } }));
      } finally {
        SandboxManager.cleanupAfterCommand();
      }
      return { firstOutputMs: wrapMs + r.firstOutputMs, totalMs: performance.now() - t0 };
    },
  };
  return [cliWay, libraryWay];
}

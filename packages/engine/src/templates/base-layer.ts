import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { idMapping, sandboxUser } from '../bundle/isolation-settings.js';
import { runHostCommand } from '../host/run-host-command.js';
import type { ProgressListener } from './build-progress.js';
import { shiftOwnership } from './uid-shift.js';

export interface BaseLayerOptions {
  /** Shared cache of built base layers; layers are immutable once complete. */
  cacheDir: string;
  suite?: string;
  mirror?: string;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/** Packages of the `base` template beyond debootstrap's minimal set. */
export const basePackages = [
  'python3',
  'python3-venv',
  'nodejs',
  'git',
  'curl',
  'ca-certificates',
  'procps',
  'less',
  'xz-utils',
  'bzip2',
  'unzip',
  'tar',
  'iproute2',
] as const;

/**
 * Installed with apt after debootstrap: debootstrap's own resolver does not
 * follow virtual packages, which npm's dependencies need.
 */
export const baseAptPackages = ['python3-pip', 'npm'] as const;

// Bump when the recipe changes so hosts rebuild instead of reusing a stale layer.
// 2: a login shell runs no program (see cheapLoginShell).
const recipeVersion = 2;

export function baseLayerKey(suite: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ suite, packages: basePackages, aptPackages: baseAptPackages, recipeVersion, idMapping, sandboxUser }))
    .digest('hex')
    .slice(0, 16);
}

/** The directory of the cached base layer (its rootfs), whether or not it exists yet. */
export function baseLayerDir(cacheDir: string, suite = 'bookworm'): string {
  return join(cacheDir, `base-${suite}-${baseLayerKey(suite)}`, 'rootfs');
}

export interface BaseLayerInfo {
  dir: string;
  builtAt: string;
  sizeBytes: number;
}

export function baseLayerReady(cacheDir: string, suite = 'bookworm'): boolean {
  return existsSync(join(baseLayerDir(cacheDir, suite), '..', '.complete'));
}

/** What the cache knows of the built base layer, or null if it is not built yet. */
export function readBaseLayerInfo(cacheDir: string, suite = 'bookworm'): BaseLayerInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(baseLayerDir(cacheDir, suite), '..', '.complete'), 'utf8')) as Partial<BaseLayerInfo>;
    return { dir: baseLayerDir(cacheDir, suite), builtAt: info.builtAt ?? '', sizeBytes: info.sizeBytes ?? 0 };
  } catch {
    return null;
  }
}

/**
 * Builds the Debian `base` layer with debootstrap once and caches it; later
 * calls return the cached layer at once.
 */
export async function ensureBaseLayer(options: BaseLayerOptions): Promise<string> {
  const suite = options.suite ?? 'bookworm';
  const target = baseLayerDir(options.cacheDir, suite);
  if (baseLayerReady(options.cacheDir, suite)) return target;
  const progress = options.onProgress ?? (() => {});
  await mkdir(options.cacheDir, { recursive: true, mode: 0o700 });
  const staging = join(options.cacheDir, `.staging-${suite}-${process.pid}-${Date.now()}`);
  const rootfs = join(staging, 'rootfs');
  try {
    await mkdir(staging, { recursive: true });
    await debootstrap(rootfs, suite, options, progress);
    progress({ phase: 'configure', fraction: 0.9, message: `apt-get install ${baseAptPackages.join(' ')}` });
    await runHostCommand(
      'chroot',
      [rootfs, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', '--no-install-recommends', ...baseAptPackages],
      { signal: options.signal, timeoutMs: 30 * 60_000 },
    );
    progress({ phase: 'configure', fraction: 0.93, message: `adding user ${sandboxUser.name} and /work` });
    await configureRootfs(rootfs);
    progress({ phase: 'shift', fraction: 0.96, message: 'mapping file ownership into the sandbox uid range' });
    await shiftOwnership(rootfs, idMapping.hostId);
    const { stdout } = await runHostCommand('du', ['-sb', rootfs]);
    const info: BaseLayerInfo = { dir: target, builtAt: new Date().toISOString(), sizeBytes: Number(stdout.split('\t')[0]) || 0 };
    await writeFile(join(staging, '.complete'), JSON.stringify(info));
    await rm(join(target, '..'), { recursive: true, force: true });
    await rename(staging, join(target, '..'));
    progress({ phase: 'done', fraction: 1, message: `base layer ready at ${target}` });
    return target;
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

// debootstrap names each package as it goes; its phases give a fair progress scale.
const phases: Array<{ pattern: RegExp; from: number; to: number; name: string }> = [
  { pattern: /^I: Retrieving (\S+)/, from: 0.02, to: 0.35, name: 'download' },
  { pattern: /^I: Validating (\S+)/, from: 0.02, to: 0.35, name: 'download' },
  { pattern: /^I: Extracting (\S+)/, from: 0.35, to: 0.45, name: 'extract' },
  { pattern: /^I: Unpacking (\S+)/, from: 0.45, to: 0.7, name: 'unpack' },
  { pattern: /^I: Configuring (\S+)/, from: 0.7, to: 0.92, name: 'configure' },
];
const expectedPackages = 180;

async function debootstrap(rootfs: string, suite: string, options: BaseLayerOptions, progress: ProgressListener): Promise<void> {
  const counts = new Map<string, number>();
  let pending = '';
  progress({ phase: 'download', fraction: 0.01, message: `debootstrap ${suite}` });
  await runHostCommand(
    'debootstrap',
    ['--variant=minbase', `--include=${basePackages.join(',')}`, suite, rootfs, options.mirror ?? 'http://deb.debian.org/debian'],
    {
      signal: options.signal,
      timeoutMs: 30 * 60_000,
      onOutput: (chunk) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const phase = phases.find((p) => p.pattern.test(line));
          if (!phase) continue;
          const n = (counts.get(phase.name) ?? 0) + 1;
          counts.set(phase.name, n);
          const fraction = phase.from + (phase.to - phase.from) * Math.min(1, n / expectedPackages);
          progress({ phase: phase.name, fraction, message: line.slice(3) });
        }
      },
    },
  );
}

async function configureRootfs(rootfs: string): Promise<void> {
  const { name, uid, gid, home } = sandboxUser;
  await runHostCommand('chroot', [rootfs, 'groupadd', '--gid', String(gid), name]);
  await runHostCommand('chroot', [
    rootfs,
    'useradd',
    '--uid',
    String(uid),
    '--gid',
    String(gid),
    '--create-home',
    '--home-dir',
    home,
    '--shell',
    '/bin/bash',
    name,
  ]);
  await mkdir(join(rootfs, 'work'), { mode: 0o775 });
  await runHostCommand('chown', [`${uid}:${gid}`, join(rootfs, 'work')]);
  await cheapLoginShell(rootfs);
  // Apt caches and docs are dead weight in every sandbox's lower layer.
  await rm(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  await rm(join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
}

/**
 * Debian's own edit of a startup file: the text it ships and what it becomes.
 * A Debian release that ships other text fails the build, rather than
 * leaving the edit undone unseen.
 */
interface StartupFileEdit {
  file: string;
  from: string;
  to: string;
}

const loginShellEdits: StartupFileEdit[] = [
  {
    // Bash knows its uid ($EUID); only another shell (dash's `sh -l`) runs id(1) for it.
    file: 'etc/profile',
    from: 'if [ "$(id -u)" -eq 0 ]; then\n  PATH="/usr/local/sbin:',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a JavaScript template
    to: 'if [ "${BASH_VERSION-}" ] && [ "$EUID" -eq 0 ] || { [ -z "${BASH_VERSION-}" ] && [ "$(id -u)" -eq 0 ]; }; then\n  PATH="/usr/local/sbin:',
  },
  {
    // mesg(1) acts on the terminal of stdin, stdout or stderr and fails without one: run it only when there is one.
    file: 'root/.profile',
    from: '\nmesg n 2> /dev/null || true\n',
    to: '\nif [ -t 0 ] || [ -t 1 ] || [ -t 2 ]; then\n  mesg n 2> /dev/null || true\nfi\n',
  },
];

/**
 * A login shell runs no program before the command: E2B's SDKs run every
 * command as `bash -l -c CMD`, and Debian's /etc/profile ran `id -u` and
 * root's ~/.profile `mesg n` (a fork and an exec each), which made a login
 * bash cost twice a plain one. What a shell ends with (PATH, HOME, PS1,
 * /etc/profile.d, ~/.bashrc) is unchanged.
 */
async function cheapLoginShell(rootfs: string): Promise<void> {
  for (const edit of loginShellEdits) {
    const path = join(rootfs, edit.file);
    const text = await readFile(path, 'utf8');
    if (!text.includes(edit.from)) throw new Error(`base layer: /${edit.file} does not hold the text to edit (${JSON.stringify(edit.from)})`);
    await writeFile(path, text.replace(edit.from, edit.to));
  }
}

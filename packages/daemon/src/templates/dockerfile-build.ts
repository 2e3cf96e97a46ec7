import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BadRequestError, type DockerfileStep, expandVariables, isUrl, type Limits, type TemplateBuildEvent, type TemplateConfig } from '@paddock/core';
import type { HostMount, SandboxHost } from '@paddock/engine';
import type { ProcessManager, ProcessSubscriber } from '../commands/process-manager.js';
import type { FileService } from '../files/file-service.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { BuildCacheStore } from '../store/build-cache-store.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { archiveFlag, type FileTree, hashPicked, type PickedEntry, packPicked, pick, readTree } from './build-context.js';

/** Where a stage starts: a template's layers, a registry image's (once pulled), nothing (scratch), or an earlier stage's result. */
export type StageBase =
  | { kind: 'template'; name: string; layerDirs: string[] }
  | { kind: 'image'; reference: string; pulled?: { digest: string; layerDirs: string[] } }
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number };

export interface PlannedStage {
  base: StageBase;
  fromText: string;
  /** The FROM's line. */
  line: number;
  steps: DockerfileStep[];
  /** The template a stage's sandboxes are made under (their record names it; its layers are replaced by the stage's). */
  sandboxTemplate: string;
  initial: { env: Record<string, string>; workdir: string; user: string; config: TemplateConfig };
}

export interface BuildOutput {
  emit(e: TemplateBuildEvent): boolean;
  whenDrained(resume: () => void): void;
}

export interface StepRunnerDeps {
  sandboxes: SandboxService;
  processes: ProcessManager;
  files: FileService;
  engine: SandboxHost;
  cache: BuildCacheStore;
  layersDir: string;
  /** A static busybox from the host, lent to each step (COPY, ADD and scratch stages need tar, chown and wget). */
  busybox: string;
  /** Layer folders builds are using right now: gc leaves them alone. */
  inUse: Map<string, number>;
}

export interface BuildSettings {
  owner: string;
  limits: Limits;
  timeoutMs: number;
  allow: string[];
  secrets: string[];
  noCache: boolean;
  buildArgs: Record<string, string>;
  context: FileTree | undefined;
  signal?: AbortSignal;
}

/** What a stage came to: its layers (top first), the key of its last step, and its settings. */
export interface StageResult {
  stack: string[];
  key: string;
  env: Record<string, string>;
  workdir: string;
  user: string;
  config: TemplateConfig;
}

interface StageState extends StageResult {
  args: Record<string, string>;
  /** A WORKDIR not yet made: the next step that writes makes it. */
  pendingDir: boolean;
}

const toolsDir = '/.paddock/build';
const busyboxIn = `${toolsDir}/busybox`;
const payloadIn = `${toolsDir}/payload.tar`;
/** Where ADD's i-th archive waits to be unpacked (removed by the unpacking). */
const archiveIn = (i: number) => `/.paddock-add-${i}`;
/**
 * Unpacks $2 (tar flag $3) into the folder $4 with busybox $1, in the step's
 * sandbox; a file that only looks like an archive (say, data.csv.gz) is
 * copied as $4/$5 instead, as Docker does.
 */
const unpackScript =
  'b=$1; $b mkdir -p "$4" && if $b tar -t"$3"f "$2" >/dev/null 2>&1; then $b tar -x"$3"f "$2" -C "$4"; else $b cp -p "$2" "$4/$5"; fi; rc=$?; $b rm -f "$2"; exit $rc';
// An earlier stage's files for COPY --from travel through the daemon's memory: bounded.
const maxStageExportBytes = 1024 * 1024 * 1024;

/**
 * Runs a planned Dockerfile's stages: each step that writes files (RUN,
 * COPY, ADD, a new WORKDIR) runs in its own sandbox on the layers before it,
 * and its writable layer becomes a layer of its own, cached by a key of its
 * parent, its instruction and its inputs. A step whose key is cached is not
 * run at all.
 */
export class DockerfileBuild {
  private readonly used = new Set<string>();
  private index = 0;

  constructor(
    private readonly deps: StepRunnerDeps,
    private readonly settings: BuildSettings,
    private readonly output: BuildOutput,
    private readonly total: number,
  ) {}

  async run(stages: PlannedStage[]): Promise<StageResult> {
    const results: StageResult[] = [];
    try {
      for (const stage of stages) results.push(await this.runStage(stage, results));
      return results.at(-1) as StageResult;
    } finally {
      for (const dir of this.used) {
        const n = (this.deps.inUse.get(dir) ?? 1) - 1;
        if (n <= 0) this.deps.inUse.delete(dir);
        else this.deps.inUse.set(dir, n);
      }
    }
  }

  /** Keeps a finished build's layers from gc until the template that holds them is saved. */
  hold(dirs: string[]): void {
    for (const dir of dirs) {
      if (this.used.has(dir)) continue;
      this.used.add(dir);
      this.deps.inUse.set(dir, (this.deps.inUse.get(dir) ?? 0) + 1);
    }
  }

  private step(text: string, cached?: boolean): void {
    // A WORKDIR made after a stage's last step has no line of its own.
    if (!text) return;
    this.index += 1;
    this.output.emit({ type: 'step', index: this.index, total: this.total, text, ...(cached ? { cached } : {}) });
  }

  private async runStage(stage: PlannedStage, earlier: StageResult[]): Promise<StageResult> {
    const state = await this.startState(stage, earlier);
    this.step(`FROM ${stage.fromText}`);
    for (const step of stage.steps) {
      this.settings.signal?.throwIfAborted();
      await this.runStep(stage, step, state, earlier);
    }
    if (state.pendingDir) {
      await this.writeStep(stage, state, { mkdir: state.workdir }, '', async () => {});
    }
    return { stack: state.stack, key: state.key, env: state.env, workdir: state.workdir, user: state.user, config: state.config };
  }

  private async startState(stage: PlannedStage, earlier: StageResult[]): Promise<StageState> {
    const base = stage.base;
    const common = { args: {}, pendingDir: false };
    if (base.kind === 'stage') {
      const from = earlier[base.index] as StageResult;
      return { ...structuredClone(from), ...common };
    }
    const initial = structuredClone(stage.initial);
    if (base.kind === 'scratch') {
      const empty = join(this.deps.layersDir, 'c-scratch', 'rootfs');
      await mkdir(empty, { recursive: true });
      this.hold([empty]);
      return { stack: [empty], key: sha({ scratch: true }), ...initial, ...common };
    }
    if (base.kind === 'image') {
      if (!base.pulled) throw new Error(`image ${base.reference} was not pulled before its stage`);
      this.hold(base.pulled.layerDirs);
      // The manifest's digest names the image's layers and settings exactly: a tag moved to another image misses the cache.
      return { stack: base.pulled.layerDirs, key: sha({ image: base.pulled.digest, layers: base.pulled.layerDirs }), ...initial, ...common };
    }
    this.hold(base.layerDirs);
    return { stack: base.layerDirs, key: sha({ template: base.name, layers: base.layerDirs }), ...initial, ...common };
  }

  /** ARGs in scope, then ENV (which wins, as in Docker): what $NAME means in an instruction. */
  private vars(state: StageState): Record<string, string> {
    return { ...state.args, ...state.env };
  }

  private async runStep(stage: PlannedStage, step: DockerfileStep, state: StageState, earlier: StageResult[]): Promise<void> {
    const x = (text: string) => expandVariables(text, this.vars(state));
    switch (step.kind) {
      case 'ARG': {
        const given = Object.hasOwn(this.settings.buildArgs, step.name) ? this.settings.buildArgs[step.name] : undefined;
        state.args[step.name] = given ?? (step.value === undefined ? '' : x(step.value));
        this.step(`ARG ${step.name}`);
        return;
      }
      case 'ENV':
        for (const [k, v] of step.values) state.env[k] = x(v);
        this.step(`ENV ${step.values.map(([k]) => k).join(' ')}`);
        return;
      case 'LABEL':
        state.config.labels = { ...state.config.labels };
        for (const [k, v] of step.values) state.config.labels[x(k)] = x(v);
        this.step(`LABEL ${step.values.map(([k]) => k).join(' ')}`);
        return;
      case 'EXPOSE':
        state.config.exposedPorts = [...new Set([...(state.config.exposedPorts ?? []), ...step.ports.map(x)])];
        this.step(`EXPOSE ${step.ports.join(' ')}`);
        return;
      case 'CMD':
        state.config.cmd = step.argv;
        this.step(`CMD ${JSON.stringify(step.argv)}`);
        return;
      case 'ENTRYPOINT':
        state.config.entrypoint = step.argv;
        // Docker drops an inherited CMD when ENTRYPOINT is set.
        delete state.config.cmd;
        this.step(`ENTRYPOINT ${JSON.stringify(step.argv)}`);
        return;
      case 'USER':
        state.user = x(step.user);
        this.step(`USER ${state.user}`);
        return;
      case 'WORKDIR': {
        const dir = posix.resolve(state.workdir, x(step.path));
        if (dir !== state.workdir) state.pendingDir = true;
        state.workdir = dir;
        this.step(`WORKDIR ${dir}`);
        return;
      }
      case 'RUN':
        // ARGs reach RUN as environment, as in Docker; ENV wins over them.
        await this.writeStep(stage, state, { run: step.argv }, `RUN ${step.text}`, (sandbox) =>
          this.exec(sandbox, step.argv, state.user, { ...state.args, ...state.env }, state.workdir, step.line, true),
        );
        return;
      case 'COPY':
      case 'ADD':
        await this.copyStep(stage, step, state, earlier);
        return;
    }
  }

  private async copyStep(
    stage: PlannedStage,
    step: Extract<DockerfileStep, { kind: 'COPY' | 'ADD' }>,
    state: StageState,
    earlier: StageResult[],
  ): Promise<void> {
    const x = (text: string) => expandVariables(text, this.vars(state));
    const sources = step.sources.map(x);
    const rawDest = x(step.dest);
    const dest = posix.resolve(state.workdir, rawDest);
    const chown = step.chown === undefined ? undefined : x(step.chown);
    const text = `${step.kind} ${step.kind === 'COPY' && step.from.kind === 'stage' ? `--from=${step.from.stage} ` : ''}${sources.join(' ')} ${rawDest}`;
    if (step.kind === 'ADD' && sources.some(isUrl)) {
      // The download runs in the step's sandbox, through the egress proxy under the build's allowlist. Its content is unknown until fetched: never cached.
      const url = sources[0] as string;
      const file = rawDest.endsWith('/') ? posix.join(dest, posix.basename(new URL(url).pathname) || 'index.html') : dest;
      await this.writeStep(
        stage,
        state,
        { add: url, file, chown, nonce: randomBytes(8).toString('hex') },
        text,
        async (sandbox) => {
          await this.exec(sandbox, [busyboxIn, 'mkdir', '-p', posix.dirname(file)], 'root', {}, '/', step.line);
          if (/^https:/i.test(url)) {
            await this.exec(sandbox, [busyboxIn, 'test', '-x', fetchWithCurl], 'root', {}, '/', step.line).catch(() => {
              throw new BadRequestError(
                `line ${step.line}: ADD of an https URL downloads with the stage's curl (${fetchWithCurl}), and this stage has none`,
                { line: step.line },
                'build_step_failed',
              );
            });
          }
          await this.exec(sandbox, fetchCommand(url, file), 'root', {}, '/', step.line, true);
          await this.exec(sandbox, [busyboxIn, 'chmod', '600', file], 'root', {}, '/', step.line);
          if (chown) await this.exec(sandbox, [busyboxIn, 'chown', '-h', chown, file], 'root', {}, '/', step.line);
        },
        { cacheable: false },
      );
      return;
    }
    const fromStage = step.kind === 'COPY' && step.from.kind === 'stage' ? (earlier[step.from.stage] as StageResult) : undefined;
    // ADD unpacks a local tar archive (plain, gzip, bzip2 or xz) named as a source into the destination, as Docker does.
    const archives = step.kind === 'ADD' && this.settings.context ? this.localArchives(this.settings.context, sources, step.line) : [];
    const copied = sources.filter((s) => !archives.some((a) => a.source === s));
    let tree: FileTree;
    let inputKey: string;
    if (fromStage) {
      // The stage's key names its files exactly: no need to read them to know whether the step is cached.
      inputKey = sha({ stage: fromStage.key, sources });
      tree = new Map();
    } else {
      if (!this.settings.context) {
        throw new BadRequestError(`line ${step.line}: ${step.kind} needs a build context, and none was sent`, { line: step.line }, 'build_context_refused');
      }
      tree = this.settings.context;
      inputKey = hashPicked(this.pickAll(tree, sources, step.line).entries);
    }
    const destIsDir = (directory: boolean) => directory || sources.length > 1 || rawDest.endsWith('/');
    let picked: { entries: PickedEntry[]; directory: boolean } | undefined;
    await this.writeStep(
      stage,
      state,
      {
        copy: inputKey,
        sources,
        dest: rawDest.endsWith('/') ? `${dest}/` : dest,
        chown,
        ...(archives.length ? { unpack: archives.map((a) => a.source) } : {}),
      },
      text,
      async (sandbox) => {
        const { entries, directory } = picked as { entries: PickedEntry[]; directory: boolean };
        await this.exec(sandbox, [busyboxIn, 'tar', '-x', '-f', payloadIn, '-C', '/'], 'root', {}, '/', step.line);
        for (const [i, archive] of archives.entries()) {
          await this.exec(
            sandbox,
            [busyboxIn, 'sh', '-c', unpackScript, 'add', busyboxIn, archiveIn(i), archive.flag, dest, posix.basename(archive.source)],
            'root',
            {},
            '/',
            step.line,
          );
        }
        if (!chown) return;
        const asDir = destIsDir(directory);
        const paths = [...(asDir && dest !== '/' ? [dest] : []), ...entries.map((e) => (asDir ? posix.join(dest, e.to) : dest))];
        for (let i = 0; i < paths.length; i += 500) {
          await this.exec(sandbox, [busyboxIn, 'chown', '-h', chown, '--', ...paths.slice(i, i + 500)], 'root', {}, '/', step.line);
        }
      },
      {
        payload: async () => {
          const files = fromStage ? await this.exportStage(stage, fromStage, sources, step.line) : tree;
          const all = this.pickAll(files, sources, step.line);
          picked = { entries: copied.length ? this.pickAll(files, copied, step.line).entries : [], directory: all.directory };
          const extra = archives.map((a, i) => ({ path: archiveIn(i), data: a.data, mode: a.mode }));
          return packPicked(picked.entries, dest, destIsDir(all.directory), extra);
        },
      },
    );
  }

  /** The sources that name one file of the context holding a tar archive (a folder's archives are copied as they are). */
  private localArchives(tree: FileTree, sources: string[], line: number): Array<{ source: string; flag: string; data: Buffer; mode: number }> {
    return sources.flatMap((source) => {
      if (isUrl(source)) return [];
      const { entries, directory } = pick(tree, source, line);
      const only = entries[0];
      if (directory || entries.length !== 1 || only?.entry.type !== 'file' || !only.entry.data) return [];
      const flag = archiveFlag(only.entry.data);
      return flag === undefined ? [] : [{ source, flag, data: only.entry.data, mode: only.entry.mode }];
    });
  }

  private pickAll(tree: FileTree, sources: string[], line: number): { entries: PickedEntry[]; directory: boolean } {
    const picks = sources.map((s) => pick(tree, s, line));
    return {
      entries: picks.flatMap((p) => p.entries),
      // One file source keeps its own name only when it is alone.
      directory: picks.length > 1 || picks.some((p) => p.directory),
    };
  }

  /** An earlier stage's files named by COPY --from, read by tar in a sandbox on that stage's layers. */
  private async exportStage(stage: PlannedStage, from: StageResult, sources: string[], line: number): Promise<FileTree> {
    // A wildcard's folder is read whole; pick() matches within it.
    const paths = sources.map((s) => {
      const rel = posix.normalize(`/${s}`).slice(1);
      const wild = rel.search(/[*?[]/);
      const path = wild < 0 ? rel : rel.slice(0, rel.lastIndexOf('/', wild) + 1).replace(/\/$/, '');
      return path || '.';
    });
    const sandbox = await this.sandbox(stage, from.stack, []);
    try {
      const tar = await this.capture(sandbox, [busyboxIn, 'tar', '-c', '-f', '-', '-C', '/', ...paths], line);
      return await readTree(tar, { maxBytes: maxStageExportBytes, maxEntries: 500_000 });
    } finally {
      await this.deps.sandboxes.kill(this.settings.owner, sandbox.id).catch(() => {});
    }
  }

  /**
   * Runs one step that writes files, unless the cache has its layer. Its key
   * is what made it: the layers below, the instruction, its inputs and the
   * settings a command sees (environment, ARGs, user, folder).
   */
  private async writeStep(
    stage: PlannedStage,
    state: StageState,
    material: Record<string, unknown>,
    text: string,
    body: (sandbox: SandboxRecord) => Promise<void>,
    options: { cacheable?: boolean; payload?: () => Promise<Buffer> } = {},
  ): Promise<void> {
    const key = sha({ parent: state.key, material, env: state.env, args: state.args, user: state.user, workdir: state.workdir, mkdir: state.pendingDir });
    const cached = options.cacheable !== false && !this.settings.noCache ? this.deps.cache.get(key) : undefined;
    if (cached?.layerDirs.every((dir) => existsSync(dir))) {
      this.hold(cached.layerDirs);
      this.step(text, true);
      Object.assign(state, { stack: cached.layerDirs, key, pendingDir: false });
      return;
    }
    this.step(text);
    const id = randomBytes(8).toString('hex');
    const layerDir = join(this.deps.layersDir, `c-${id}`, 'rootfs');
    this.hold([layerDir]);
    const sizeBytes = await this.inSandbox(stage, state, layerDir, id, body, options.payload);
    const stack = [layerDir, ...state.stack];
    if (!this.deps.cache.put({ key, layerDirs: stack, sizeBytes })) {
      // Another build made the same step meanwhile: use its layer, drop ours.
      const theirs = this.deps.cache.get(key);
      if (theirs) {
        await rm(join(layerDir, '..'), { recursive: true, force: true });
        this.hold(theirs.layerDirs);
        Object.assign(state, { stack: theirs.layerDirs, key, pendingDir: false });
        return;
      }
    }
    Object.assign(state, { stack, key, pendingDir: false });
  }

  /** Runs a step's body in a sandbox on the state's layers and keeps its writable layer at layerDir; returns its size. */
  private async inSandbox(
    stage: PlannedStage,
    state: StageState,
    layerDir: string,
    id: string,
    body: (sandbox: SandboxRecord) => Promise<void>,
    payload?: () => Promise<Buffer>,
  ): Promise<number> {
    const payloadDir = join(this.deps.layersDir, `.payload-${id}`);
    const mounts: HostMount[] = [];
    try {
      if (payload) {
        // Written before the sandbox starts: its bind mount needs the file.
        const tar = await payload();
        await mkdir(payloadDir, { mode: 0o711 });
        await writeFile(join(payloadDir, 'payload.tar'), tar, { mode: 0o644 });
        mounts.push({ path: payloadIn, source: join(payloadDir, 'payload.tar'), writable: false });
      }
      const sandbox = await this.sandbox(stage, state.stack, mounts);
      let committed = false;
      try {
        if (state.pendingDir) await this.exec(sandbox, [busyboxIn, 'mkdir', '-p', state.workdir], 'root', {}, '/');
        await body(sandbox);
        this.deps.sandboxes.retire(sandbox.id, 'built');
        committed = true;
        // A failed copy removes its own layer folder.
        return await this.deps.engine.commit(sandbox.id, layerDir);
      } finally {
        if (!committed) await this.deps.sandboxes.kill(this.settings.owner, sandbox.id).catch(() => {});
      }
    } finally {
      await rm(payloadDir, { recursive: true, force: true });
    }
  }

  private async sandbox(stage: PlannedStage, layers: string[], mounts: HostMount[]): Promise<SandboxRecord> {
    return this.deps.sandboxes.create(
      this.settings.owner,
      {
        template: stage.sandboxTemplate,
        limits: this.settings.limits,
        // A build's layer is up to 16 GiB: on disk, that would be reserved on the host's disk for every step.
        writableLayer: 'tmpfs',
        timeoutMs: this.settings.timeoutMs,
        network: { allow: this.settings.allow },
        secrets: this.settings.secrets,
      },
      {
        signal: this.settings.signal,
        layers,
        hostMounts: [{ path: busyboxIn, source: this.deps.busybox, writable: false }, ...mounts],
      },
    );
  }

  private async capture(sandbox: SandboxRecord, cmd: string[], line: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    const subscriber: ProcessSubscriber = {
      push: (e) => {
        if (e.type === 'stdout') {
          size += e.data.length;
          if (size > maxStageExportBytes) {
            void proc.signal('SIGKILL');
            return true;
          }
          chunks.push(e.data);
        }
        return true;
      },
    };
    const proc = await this.deps.processes.start(sandbox, { cmd, user: 'root', cwd: '/' }, { signal: this.settings.signal, subscriber });
    const exit = await proc.done;
    if (size > maxStageExportBytes)
      throw new BadRequestError(`line ${line}: COPY --from: the files are larger than ${maxStageExportBytes} bytes`, { line }, 'build_context_refused');
    if (exit.exitCode !== 0) {
      throw new BadRequestError(
        `line ${line}: COPY --from: ${proc.stderr.bytes().toString().trim().slice(-300) || `tar exited with code ${exit.exitCode}`}`,
        { line },
        'build_step_failed',
      );
    }
    return Buffer.concat(chunks);
  }

  private async exec(
    sandbox: SandboxRecord,
    cmd: string[],
    user: string,
    env: Record<string, string>,
    cwd: string,
    line?: number,
    showOutput = false,
  ): Promise<void> {
    const output = showOutput ? this.output : undefined;
    const subscriber: ProcessSubscriber = {
      push: (e) => (output && (e.type === 'stdout' || e.type === 'stderr') ? output.emit({ type: 'log', stream: e.type, data: e.data.toString() }) : true),
    };
    const signal = this.settings.signal;
    const proc = await this.deps.processes.start({ ...sandbox, env: { ...sandbox.env, ...env } }, { cmd, user, cwd }, { signal, subscriber });
    output?.whenDrained(() => proc.unblock(subscriber));
    const onAbort = () => proc.signal('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await proc.done.finally(() => signal?.removeEventListener('abort', onAbort));
    if (exit.exitCode !== 0) {
      const where = line ? `line ${line}: ` : '';
      const stderr = proc.stderr.bytes().toString();
      // Paddock's own tools (tar, chown, wget, the download's curl) say what went wrong only on stderr: their last line goes in the message.
      const own = cmd[0] === busyboxIn || cmd[0] === fetchWithCurl;
      const lines = stderr.trim().split('\n');
      // curl puts its reason first and advice after it; busybox its reason last.
      const reason = cmd[0] === fetchWithCurl ? (lines.find((l) => l.startsWith('curl:')) ?? lines[0]) : lines.at(-1);
      const why = own ? `: ${reason?.slice(0, 300) ?? ''}` : '';
      const shown = cmd[0] === busyboxIn ? cmd.slice(1, 2) : cmd[0] === fetchWithCurl ? ['curl'] : cmd;
      throw new BadRequestError(
        `${where}${shown.join(' ').slice(0, 300)} exited with code ${exit.exitCode}${why}`,
        { exitCode: exit.exitCode, line, stderr: stderr.slice(-2000) },
        'build_step_failed',
      );
    }
  }
}

const fetchWithCurl = '/usr/bin/curl';

/**
 * How ADD downloads a URL inside its step: busybox wget for http; for https
 * the stage's own curl, which checks the server's certificate (busybox's
 * TLS does not), so a stage without curl cannot ADD an https URL.
 */
function fetchCommand(url: string, file: string): string[] {
  if (/^https:/i.test(url)) return [fetchWithCurl, '-fsSL', '--proto', '=https', '--proto-redir', '=https', '--max-redirs', '5', '-o', file, '--', url];
  return [busyboxIn, 'wget', '-q', '-O', file, url];
}

function sha(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

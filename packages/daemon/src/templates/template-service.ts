import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  BadRequestError,
  ConflictError,
  type Limits,
  type Paddockfile,
  type PaddockfileStep,
  PolicyDeniedError,
  parsePaddockfile,
  type TemplateBuildEvent,
  type TemplateInfo,
  TemplateNotFoundError,
} from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { ProcessManager, ProcessSubscriber } from '../commands/process-manager.js';
import type { FileService } from '../files/file-service.js';
import { type HostTotals, measureHost } from '../sandboxes/host-capacity.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SandboxRecord, SandboxStore } from '../store/sandbox-store.js';
import { type TemplateRecord, type TemplateStore, visibleTo } from '../store/template-store.js';

export interface TemplateServiceDeps {
  templates: TemplateStore;
  sandboxes: SandboxService;
  sandboxStore: SandboxStore;
  processes: ProcessManager;
  files: FileService;
  engine: SandboxHost;
  /** Where built layers are kept. */
  layersDir: string;
  logger: Logger;
  /** Told when a template was rebuilt or removed (warm pools of it must be replaced). */
  afterChange?: (name: string) => Promise<void> | void;
  /** Layer folders (rootfs) a pull is about to give a template: never removed meanwhile. */
  layerHolds?: { held(dir: string): boolean };
}

export interface TemplateBuildRequest {
  name: string;
  from?: string;
  paddockfile: string;
  /** A tar of the build context, for COPY. */
  context?: Buffer;
}

/**
 * Where a build's events go. `emit` returns false when the reader is not
 * keeping up; `whenDrained` calls back once it is, so a chatty RUN step is
 * held back instead of filling the daemon's memory.
 */
export interface BuildOutput {
  emit(e: TemplateBuildEvent): boolean;
  whenDrained(resume: () => void): void;
}

export interface BuildPlan {
  request: TemplateBuildRequest;
  file: Paddockfile;
  parentName: string;
  parent: TemplateRecord;
  /** The tenant the built template will belong to; null: shared (an admin's build). */
  owner: string | null;
}

/** Who asks to build or remove a template. */
export interface TemplateCaller {
  tenant: string;
  admin: boolean;
}

/** A build's sandbox: generous, but within what a small host has, so the host capacity check never refuses a build. */
function buildLimits(host: HostTotals): Limits {
  return {
    memoryMiB: Math.min(4096, host.memoryMiB),
    cpus: Math.min(2, host.cpus),
    pids: 4096,
    diskMiB: Math.min(16_384, host.diskMiB),
  };
}
const buildTimeoutMs = 60 * 60_000;
const contextDir = '/.paddock-context';
export const builtinTemplate = 'base';

export class TemplateService {
  constructor(private readonly deps: TemplateServiceDeps) {}

  /** The templates a tenant can use: shared ones and its own snapshots (not the hidden layers of forks). */
  list(tenant: string): TemplateInfo[] {
    return this.deps.templates
      .list()
      .filter((t) => t.kind !== 'fork' && visibleTo(t, tenant))
      .map(toTemplateInfo);
  }

  get(name: string, tenant: string): TemplateInfo {
    const record = this.deps.templates.get(name);
    if (!visibleTo(record, tenant)) throw new TemplateNotFoundError(name);
    return toTemplateInfo(record);
  }

  /** Points `base` at the cached Debian layer. */
  registerBase(layerDir: string, sizeBytes: number): void {
    const current = this.deps.templates.get(builtinTemplate);
    if (current?.layerDirs[0] === layerDir) return;
    this.deps.templates.put({
      name: builtinTemplate,
      parent: null,
      layerDirs: [layerDir],
      env: {},
      workdir: '/work',
      user: 'root',
      createdAt: new Date().toISOString(),
      sizeBytes,
      kind: 'base',
      owner: null,
    });
  }

  /**
   * Removes layer folders no template uses: leftovers of a build the daemon did
   * not live to finish. While the daemon runs (`olderThanMs`), folders younger
   * than that are spared: a build or snapshot may be writing one right now.
   */
  async removeOrphanLayers(olderThanMs = 0): Promise<string[]> {
    const used = new Set(this.deps.templates.list().flatMap((t) => t.layerDirs.map((d) => join(d, '..'))));
    // A pull's work and staging folders (images/) can be older than any cutoff while it runs; they go only at start.
    const names = (await readdir(this.deps.layersDir)).filter((name) => olderThanMs === 0 || !name.startsWith('.'));
    const candidates = names.map((name) => join(this.deps.layersDir, name)).filter((dir) => !used.has(dir) && !this.deps.layerHolds?.held(join(dir, 'rootfs')));
    const cutoff = Date.now() - olderThanMs;
    const orphans: string[] = [];
    for (const dir of candidates) {
      const age = await stat(dir).then(
        (st) => st.mtimeMs,
        () => 0,
      );
      if (olderThanMs === 0 || age < cutoff) orphans.push(dir);
    }
    await Promise.all(orphans.map((dir) => rm(dir, { recursive: true, force: true })));
    return orphans;
  }

  async remove(name: string, caller: TemplateCaller): Promise<void> {
    const record = this.deps.templates.get(name);
    if (!visibleTo(record, caller.tenant)) throw new TemplateNotFoundError(name);
    this.requireMayChange(record, caller);
    if (name === builtinTemplate) throw new ConflictError('the base template is built in and cannot be removed', { template: name }, 'template_in_use');
    const children = this.deps.templates.children(name);
    if (children.length) throw new ConflictError(`template ${name} is the parent of ${children.join(', ')}`, { template: name, children }, 'template_in_use');
    const users = this.deps.sandboxStore.live().filter((s) => s.template === name);
    if (users.length) throw new ConflictError(`template ${name} is used by ${users.length} running sandbox(es)`, { template: name }, 'template_in_use');
    this.deps.templates.remove(name);
    await this.releaseLayers(record);
    await this.deps.afterChange?.(name);
  }

  /**
   * Builds a template by running the Paddockfile's steps in a sandbox made from
   * the parent, then keeping that sandbox's writable layer as the new layer.
   */
  /** Checks a build request before any sandbox starts, so bad input fails fast with a 4xx. */
  plan(request: TemplateBuildRequest, caller: TemplateCaller): BuildPlan {
    const file = parsePaddockfile(request.paddockfile);
    const parentName = file.from ?? request.from ?? builtinTemplate;
    const parent = this.deps.templates.get(parentName);
    if (!visibleTo(parent, caller.tenant)) throw new TemplateNotFoundError(parentName);
    return { request, file, parentName, parent, owner: this.requireReplaceable(request.name, caller) };
  }

  /**
   * Checks that a template may be made or replaced under this name by this
   * caller, and returns who will own it: an admin's templates are shared by
   * every tenant; anyone else's belong to their tenant.
   */
  requireReplaceable(name: string, caller: TemplateCaller): string | null {
    const existing = this.deps.templates.get(name);
    if (existing && !visibleTo(existing, caller.tenant)) {
      throw new ConflictError(`template ${name} already exists`, { template: name }, 'template_exists');
    }
    if (existing) this.requireMayChange(existing, caller);
    if (name === builtinTemplate) throw new ConflictError('the base template is built in', { template: name }, 'template_in_use');
    if (this.deps.sandboxStore.live().some((s) => s.template === name)) {
      throw new ConflictError(`template ${name} is used by running sandboxes`, { template: name }, 'template_in_use');
    }
    // Children stack on this template's layer: rebuilding it would pull their floor away.
    const children = this.deps.templates.children(name);
    if (children.length) {
      throw new ConflictError(`template ${name} is the parent of ${children.join(', ')}; remove them first`, { template: name, children }, 'template_in_use');
    }
    return caller.admin ? null : caller.tenant;
  }

  /**
   * Records a template made of an image's unpacked layers (images/), replacing
   * one of that name checked by requireReplaceable before the pull.
   */
  async saveImageTemplate(record: TemplateRecord): Promise<TemplateInfo> {
    const previous = this.deps.templates.get(record.name);
    // Checked again now: sandboxes or templates may have come to rest on the old layers during the pull.
    if (previous && (this.deps.sandboxStore.live().some((sb) => sb.template === record.name) || this.deps.templates.children(record.name).length)) {
      throw new ConflictError(`template ${record.name} came into use during the pull; nothing was replaced`, { template: record.name }, 'template_in_use');
    }
    this.deps.templates.put(record);
    if (previous) {
      await this.releaseLayers(previous);
      await this.deps.afterChange?.(record.name);
    }
    return toTemplateInfo(record);
  }

  /**
   * Removes the layers a removed or replaced template had of its own, unless
   * another template stacks on them: an image's layers are shared by digest.
   */
  private async releaseLayers(record: TemplateRecord): Promise<void> {
    await this.removeUnusedLayers(record.kind === 'image' ? record.layerDirs : record.layerDirs.slice(0, 1));
  }

  /** Removes those of these layer folders that no template has (an image that failed half-way unpacked them). */
  async removeUnusedLayers(layerDirs: string[]): Promise<void> {
    const used = new Set(this.deps.templates.list().flatMap((t) => t.layerDirs));
    const unused = layerDirs.filter((dir) => !used.has(dir) && !this.deps.layerHolds?.held(dir));
    await Promise.all(unused.map((dir) => rm(join(dir, '..'), { recursive: true, force: true })));
  }

  /** Shared templates are every tenant's floor: only an admin replaces or removes one; a tenant its own. */
  private requireMayChange(template: TemplateRecord, caller: TemplateCaller): void {
    if (template.owner === null && !caller.admin) {
      throw new PolicyDeniedError(`template ${template.name} is shared by every tenant: only an admin may change or remove it`, { template: template.name });
    }
  }

  /**
   * Builds a template by running the Paddockfile's steps in a sandbox made from
   * the parent, then keeping that sandbox's writable layer as the new layer.
   */
  async build(owner: string, plan: BuildPlan, output: BuildOutput, signal?: AbortSignal): Promise<TemplateInfo> {
    const emit = (e: TemplateBuildEvent) => output.emit(e);
    const { request, file, parentName, parent } = plan;
    const total = file.steps.length + 2;
    emit({ type: 'step', index: 1, total, text: `FROM ${parentName}` });
    const sandbox = await this.deps.sandboxes.create(
      owner,
      { template: parentName, limits: buildLimits(measureHost(this.deps.layersDir)), timeoutMs: buildTimeoutMs },
      { signal },
    );
    const state = { env: { ...parent.env }, workdir: parent.workdir, user: parent.user };
    const layerDir = join(this.deps.layersDir, `l-${randomBytes(8).toString('hex')}`, 'rootfs');
    let committed = false;
    try {
      if (request.context) await this.unpackContext(sandbox, request.context);
      for (const [i, step] of file.steps.entries()) {
        signal?.throwIfAborted();
        emit({ type: 'step', index: i + 2, total, text: describe(step) });
        await this.runStep(sandbox, step, state, output, signal);
      }
      emit({ type: 'step', index: total, total, text: 'saving layer' });
      if (request.context) await this.deps.files.remove(sandbox, contextDir, true, 'root');
      this.deps.sandboxes.retire(sandbox.id, 'built');
      committed = true;
      // A failed copy removes its own layer folder.
      const sizeBytes = await this.deps.engine.commit(sandbox.id, layerDir);
      const previous = this.deps.templates.get(request.name);
      // Checked again now: sandboxes or templates may have come to rest on the old layer during the build.
      if (previous && (this.deps.sandboxStore.live().some((sb) => sb.template === request.name) || this.deps.templates.children(request.name).length)) {
        await rm(join(layerDir, '..'), { recursive: true, force: true });
        throw new ConflictError(`template ${request.name} came into use during the build; nothing was replaced`, { template: request.name }, 'template_in_use');
      }
      const record: TemplateRecord = {
        name: request.name,
        parent: parentName,
        layerDirs: [layerDir, ...parent.layerDirs],
        env: state.env,
        workdir: state.workdir,
        user: state.user,
        createdAt: new Date().toISOString(),
        sizeBytes,
        kind: 'build',
        owner: plan.owner,
      };
      this.deps.templates.put(record);
      if (previous) await this.releaseLayers(previous);
      if (previous) await this.deps.afterChange?.(request.name);
      const info = toTemplateInfo(record);
      emit({ type: 'done', template: info });
      return info;
    } finally {
      if (!committed) await this.deps.sandboxes.kill(owner, sandbox.id).catch(() => {});
    }
  }

  private async unpackContext(sandbox: SandboxRecord, tar: Buffer): Promise<void> {
    const tarPath = `${contextDir}.tar`;
    await this.deps.files.write(sandbox, tarPath, tar, { user: 'root' });
    await this.deps.files.mkdir(sandbox, contextDir, 'root');
    await this.exec(sandbox, ['tar', '-x', '--no-same-owner', '-f', tarPath, '-C', contextDir], 'root', {}, '/');
    await this.deps.files.remove(sandbox, tarPath, false, 'root');
  }

  private async runStep(
    sandbox: SandboxRecord,
    step: PaddockfileStep,
    state: { env: Record<string, string>; workdir: string; user: string },
    output: BuildOutput,
    signal?: AbortSignal,
  ): Promise<void> {
    switch (step.kind) {
      case 'ENV':
        Object.assign(state.env, step.values);
        return;
      case 'USER':
        state.user = step.user;
        return;
      case 'WORKDIR':
        state.workdir = posix.resolve(state.workdir, step.path);
        await this.deps.files.mkdir(sandbox, state.workdir, 'root');
        return;
      case 'COPY': {
        const sources = step.sources.map((s) => {
          const rel = posix.normalize(s).replace(/^\/+/, '');
          if (rel.startsWith('..'))
            throw new BadRequestError(
              `Paddockfile line ${step.line}: COPY source ${s} is outside the build context`,
              { line: step.line },
              'invalid_paddockfile',
            );
          return posix.join(contextDir, rel);
        });
        const dest = posix.resolve(state.workdir, step.dest);
        const multiple = sources.length > 1 || step.dest.endsWith('/');
        await this.exec(sandbox, ['mkdir', '-p', multiple ? dest : posix.dirname(dest)], 'root', state.env, '/');
        await this.exec(sandbox, ['cp', '-a', '--', ...sources, dest], 'root', state.env, '/', output);
        return;
      }
      case 'RUN':
        await this.exec(sandbox, step.argv, state.user, state.env, state.workdir, output, signal, step.line);
        return;
    }
  }

  private async exec(
    sandbox: SandboxRecord,
    cmd: string[],
    user: string,
    env: Record<string, string>,
    cwd: string,
    output?: BuildOutput,
    signal?: AbortSignal,
    line?: number,
  ): Promise<void> {
    const subscriber: ProcessSubscriber = {
      push: (e) => (output && (e.type === 'stdout' || e.type === 'stderr') ? output.emit({ type: 'log', stream: e.type, data: e.data.toString() }) : true),
    };
    const proc = await this.deps.processes.start(
      { ...sandbox, env: { ...sandbox.env, ...env } },
      { cmd, user, cwd },
      {
        signal,
        subscriber,
      },
    );
    output?.whenDrained(() => proc.unblock(subscriber));
    const onAbort = () => proc.signal('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    const exit = await proc.done.finally(() => signal?.removeEventListener('abort', onAbort));
    if (exit.exitCode !== 0) {
      const where = line ? `Paddockfile line ${line}: ` : '';
      throw new BadRequestError(
        `${where}${cmd.join(' ')} exited with code ${exit.exitCode}`,
        { exitCode: exit.exitCode, line, stderr: proc.stderr.bytes().toString().slice(-2000) },
        'build_step_failed',
      );
    }
  }
}

function describe(step: PaddockfileStep): string {
  switch (step.kind) {
    case 'RUN':
      return `RUN ${step.text}`;
    case 'COPY':
      return `COPY ${step.sources.join(' ')} ${step.dest}`;
    case 'ENV':
      return `ENV ${Object.keys(step.values).join(' ')}`;
    case 'WORKDIR':
      return `WORKDIR ${step.path}`;
    case 'USER':
      return `USER ${step.user}`;
  }
}

export function toTemplateInfo(r: TemplateRecord): TemplateInfo {
  return {
    name: r.name,
    parent: r.parent,
    layers: r.layerDirs.map((d) => posix.basename(posix.dirname(d))),
    env: r.env,
    workdir: r.workdir,
    user: r.user,
    createdAt: r.createdAt,
    sizeBytes: r.sizeBytes,
    kind: r.kind === 'fork' ? 'snapshot' : r.kind,
    ...(r.image ? { image: r.image } : {}),
  };
}

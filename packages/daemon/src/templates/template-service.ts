import { readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  BadRequestError,
  type BuildFileKind,
  ConflictError,
  expandVariables,
  isImageReference,
  type Limits,
  NotFoundError,
  PaddockError,
  PolicyDeniedError,
  parseDockerfile,
  type TemplateConfig,
  type TemplateInfo,
  TemplateNotFoundError,
} from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import type { Logger } from 'pino';
import type { ProcessManager } from '../commands/process-manager.js';
import type { FileService } from '../files/file-service.js';
import type { PulledImage } from '../images/pulled-image.js';
import { type HostTotals, measureHost } from '../sandboxes/host-capacity.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { BuildCacheStore } from '../store/build-cache-store.js';
import type { SandboxStore } from '../store/sandbox-store.js';
import { type TemplateRecord, type TemplateStore, visibleTo } from '../store/template-store.js';
import { applyDockerignore, readTree } from './build-context.js';
import { type BuildOutput, DockerfileBuild, type PlannedStage } from './dockerfile-build.js';

export interface TemplateServiceDeps {
  templates: TemplateStore;
  sandboxes: SandboxService;
  sandboxStore: SandboxStore;
  processes: ProcessManager;
  files: FileService;
  engine: SandboxHost;
  /** Where built layers are kept (build cache layers too, as c-* folders). */
  layersDir: string;
  buildCache: BuildCacheStore;
  /** Hosts every build may reach through the egress proxy (the operator's defaults). */
  buildAllowDomains: readonly string[];
  /** A static busybox on the host (busybox-static), lent to build steps. */
  busybox: string;
  /** Layer folders (rootfs) a pull is about to give a template: never removed meanwhile. */
  layerHolds?: { held(dir: string): boolean };
  logger: Logger;
  /** Pulls a registry image's layers for a Dockerfile's FROM (ImageService.pullLayers); absent: such builds are refused. */
  pullImage?: (reference: string, tenant: string, log: (text: string) => void, signal?: AbortSignal) => Promise<PulledImage>;
  /** Told when a template was rebuilt or removed (warm pools of it must be replaced). */
  afterChange?: (name: string) => Promise<void> | void;
}

export interface TemplateBuildRequest {
  name: string;
  from?: string;
  /** The build file's text: a Dockerfile, or a Paddockfile (its subset, whose errors say Paddockfile). */
  file: string;
  fileKind: BuildFileKind;
  /** A tar of the build context, for COPY and ADD. */
  context?: Buffer;
  buildArgs?: Record<string, string>;
  /** Hosts this build may reach besides the operator's defaults. */
  allow?: string[];
  secrets?: string[];
  noCache?: boolean;
}

/**
 * Where a build's events go. `emit` returns false when the reader is not
 * keeping up; `whenDrained` calls back once it is, so a chatty RUN step is
 * held back instead of filling the daemon's memory.
 */
export type { BuildOutput };

export interface BuildPlan {
  request: TemplateBuildRequest;
  stages: PlannedStage[];
  /** The template the result stacks on (null: it starts from scratch). */
  parentName: string | null;
  /** Hosts its steps may reach: the operator's defaults and the request's. */
  allow: string[];
  /** Registry images its stages start from (pulled when the build starts), as the Dockerfile names them. */
  images: string[];
  /** How many progress steps the build reports. */
  total: number;
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
export const builtinTemplate = 'base';

export class TemplateService {
  /** Layer folders running builds use (with how many builds use each): gc spares them. */
  private readonly buildLayersInUse = new Map<string, number>();

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
    const used = new Set(
      [
        ...this.deps.templates.list().flatMap((t) => t.layerDirs),
        ...this.deps.buildCache.list().flatMap((e) => e.layerDirs),
        ...this.buildLayersInUse.keys(),
      ].map((d) => join(d, '..')),
    );
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
   * Checks a build request before any sandbox starts, so bad input fails fast
   * with a 4xx: the file parses, every FROM is a template, scratch, an
   * earlier stage or (in a Dockerfile) an image reference, COPY --from names
   * an earlier stage, and the caller may (re)place the template.
   */
  plan(request: TemplateBuildRequest, caller: TemplateCaller): BuildPlan {
    const file = parseDockerfile(request.file, request.fileKind);
    const globalArgs: Record<string, string> = {};
    for (const arg of file.globalArgs) globalArgs[arg.name] = request.buildArgs?.[arg.name] ?? expandVariables(arg.value ?? '', globalArgs);
    const stages: PlannedStage[] = [];
    file.stages.forEach((stage, index) => {
      const line = stage.line || 1;
      // An image's tag keeps its case; template and stage names are matched in lower case, as Docker does.
      const written = stage.from === '' ? (request.from ?? builtinTemplate) : expandVariables(stage.from, globalArgs);
      const fromText = written.toLowerCase();
      const earlier = file.stages.findIndex((s, i) => i < index && s.name === fromText);
      const base = (): Pick<PlannedStage, 'base' | 'sandboxTemplate' | 'initial'> => {
        if (earlier >= 0)
          return { base: { kind: 'stage', index: earlier }, sandboxTemplate: (stages[earlier] as PlannedStage).sandboxTemplate, initial: emptyInitial() };
        if (fromText === 'scratch')
          return { base: { kind: 'scratch' }, sandboxTemplate: builtinTemplate, initial: { ...emptyInitial(), workdir: '/', user: 'root' } };
        const parent = this.deps.templates.get(fromText);
        if (parent && visibleTo(parent, caller.tenant) && parent.kind !== 'fork') {
          return {
            base: { kind: 'template', name: parent.name, layerDirs: parent.layerDirs },
            sandboxTemplate: parent.name,
            initial: { env: { ...parent.env }, workdir: parent.workdir, user: parent.user, config: inheritedConfig(parent) },
          };
        }
        // A Paddockfile's FROM and --from name templates only; in a Dockerfile anything else is an image, as Docker reads it.
        if (request.fileKind !== 'Dockerfile' || stage.from === '') {
          throw new NotFoundError(
            `${request.fileKind} line ${line}: FROM ${fromText}: no template, stage or scratch of that name (images come with --from-image or a Dockerfile)`,
            { template: fromText, line },
            'template_not_found',
          );
        }
        if (!isImageReference(written)) {
          throw new BadRequestError(
            `Dockerfile line ${line}: FROM ${written}: not a template, a stage or an image reference (e.g. debian:bookworm, registry.example.com/team/app@sha256:…)`,
            { line, from: written },
            'invalid_dockerfile',
          );
        }
        // The stage's sandboxes run under base's record; their layers are the image's (pulled when the build starts).
        return { base: { kind: 'image', reference: written }, sandboxTemplate: builtinTemplate, initial: emptyInitial() };
      };
      stages.push({ ...base(), fromText: stage.from === '' ? fromText : written, line, steps: stage.steps });
    });
    const owner = this.requireReplaceable(request.name, caller);
    const allow = [...new Set([...this.deps.buildAllowDomains, ...(request.allow ?? [])])];
    const total = stages.reduce((n, s) => n + 1 + s.steps.length, 0) + 1;
    const images = [...new Set(stages.flatMap((s) => (s.base.kind === 'image' ? [s.base.reference] : [])))];
    return { request, stages, parentName: rootTemplate(stages), allow, images, total, owner };
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
   * Removes the layers a removed or replaced template had of its own: an
   * image's (shared by digest with other templates, so only those no other
   * template has), or a build's top layer.
   */
  private async releaseLayers(record: TemplateRecord): Promise<void> {
    if (record.kind === 'image') await this.removeUnusedLayers(record.layerDirs);
    else {
      await this.removeOwnLayer(record);
      // A build from a registry image has its layers below its own.
      await this.removeUnusedLayers(record.layerDirs.filter(isImageLayer));
    }
  }

  /** Removes those of these layer folders that no template has (an image that failed half-way unpacked them). */
  async removeUnusedLayers(layerDirs: string[]): Promise<void> {
    // Built templates and cached build steps stand on image layers too.
    const used = new Set([...this.deps.templates.list(), ...this.deps.buildCache.list()].flatMap((t) => t.layerDirs));
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
   * Builds a template: each step that writes files runs in a sandbox on the
   * layers before it and becomes a layer of its own, reused from the build
   * cache when nothing it depends on changed. The template is recorded only
   * when every step succeeded: a failed or cancelled build leaves no template.
   */
  async build(owner: string, plan: BuildPlan, output: BuildOutput, signal?: AbortSignal): Promise<TemplateInfo> {
    const pulled: PulledImage[] = [];
    try {
      const stages = await this.pullImages(plan, owner, output, pulled, signal);
      const info = await this.buildStages(owner, { ...plan, stages }, output, signal);
      for (const image of pulled) image.release();
      return info;
    } catch (err) {
      // Layers first unpacked for this build go again unless a template or a cached step has them.
      for (const image of pulled) await image.discard();
      throw err;
    }
  }

  /**
   * Pulls the images the stages start from (each once), through the same
   * checks as `paddock template build --from-image`; a failure names the
   * FROM's line. Returns the stages with the images' layers and settings.
   */
  private async pullImages(plan: BuildPlan, owner: string, output: BuildOutput, pulled: PulledImage[], signal?: AbortSignal): Promise<PlannedStage[]> {
    const byReference = new Map<string, PulledImage>();
    const stages: PlannedStage[] = [];
    for (const stage of plan.stages) {
      if (stage.base.kind !== 'image') {
        stages.push(stage);
        continue;
      }
      const reference = stage.base.reference;
      let image = byReference.get(reference);
      if (!image) {
        const where = `${plan.request.fileKind} line ${stage.line}: FROM ${reference}`;
        if (!this.deps.pullImage) throw new BadRequestError(`${where}: this daemon pulls no images`, { line: stage.line }, 'invalid_dockerfile');
        const log = (data: string) => void output.emit({ type: 'log', stream: 'stdout', data });
        image = await this.deps.pullImage(reference, owner, log, signal).catch((err: unknown) => {
          signal?.throwIfAborted();
          throw err instanceof PaddockError ? new PaddockError(err.code, err.status, `${where}: ${err.message}`, { ...err.details, line: stage.line }) : err;
        });
        pulled.push(image);
        byReference.set(reference, image);
      }
      const { config } = image;
      const startConfig = startConfigOf(config);
      stages.push({
        ...stage,
        base: { kind: 'image', reference, pulled: { digest: image.digest, layerDirs: image.layerDirs } },
        initial: { env: { ...config.env }, workdir: config.workdir, user: config.user, config: startConfig },
      });
    }
    return stages;
  }

  private async buildStages(owner: string, plan: BuildPlan, output: BuildOutput, signal?: AbortSignal): Promise<TemplateInfo> {
    const { request } = plan;
    const context = request.context ? applyDockerignore(await readTree(request.context)) : undefined;
    const run = new DockerfileBuild(
      {
        sandboxes: this.deps.sandboxes,
        processes: this.deps.processes,
        files: this.deps.files,
        engine: this.deps.engine,
        cache: this.deps.buildCache,
        layersDir: this.deps.layersDir,
        busybox: this.deps.busybox,
        inUse: this.buildLayersInUse,
      },
      {
        owner,
        limits: buildLimits(measureHost(this.deps.layersDir)),
        timeoutMs: buildTimeoutMs,
        allow: plan.allow,
        secrets: request.secrets ?? [],
        noCache: request.noCache ?? false,
        buildArgs: request.buildArgs ?? {},
        context,
        signal,
      },
      output,
      plan.total,
    );
    const result = await run.run(plan.stages);
    output.emit({ type: 'step', index: plan.total, total: plan.total, text: 'saving template' });
    const previous = this.deps.templates.get(request.name);
    // Checked again now: sandboxes or templates may have come to rest on the old layers during the build.
    if (previous && (this.deps.sandboxStore.live().some((sb) => sb.template === request.name) || this.deps.templates.children(request.name).length)) {
      throw new ConflictError(`template ${request.name} came into use during the build; nothing was replaced`, { template: request.name }, 'template_in_use');
    }
    const parent = plan.parentName ? this.deps.templates.get(plan.parentName) : undefined;
    const own = result.stack.slice(0, result.stack.length - (parent?.layerDirs.length ?? 0));
    const config = Object.fromEntries(Object.entries(result.config).filter(([, v]) => v !== undefined)) as TemplateConfig;
    const record: TemplateRecord = {
      name: request.name,
      parent: plan.parentName,
      layerDirs: result.stack,
      env: result.env,
      workdir: result.workdir,
      user: result.user,
      createdAt: new Date().toISOString(),
      sizeBytes: own.reduce((n, dir) => n + (this.deps.buildCache.sizeOf(dir) ?? 0), 0),
      kind: 'build',
      owner: plan.owner,
      ...(Object.keys(config).length ? { config } : {}),
    };
    this.deps.templates.put(record);
    if (previous) await this.releaseLayers(previous);
    if (previous) await this.deps.afterChange?.(request.name);
    const info = toTemplateInfo(record);
    output.emit({ type: 'done', template: info });
    return info;
  }

  /**
   * A template's own top layer goes with it, unless the build cache keeps it
   * (gc removes those). A template with no layer of its own (a Dockerfile of
   * ENV and LABEL lines) has its parent's on top: that one stays.
   */
  private async removeOwnLayer(record: TemplateRecord): Promise<void> {
    const own = record.layerDirs[0];
    if (!own || isCacheLayer(own) || posix.dirname(posix.dirname(own)) !== this.deps.layersDir) return;
    if (this.deps.templates.list().some((t) => t.name !== record.name && t.layerDirs.includes(own))) return;
    await rm(join(own, '..'), { recursive: true, force: true });
  }

  /**
   * Removes cached build layers no template and no running build uses, with
   * every cache entry that stood on them. Returns the removed folders' names.
   */
  async removeUnusedCache(): Promise<string[]> {
    const used = new Set([...this.deps.templates.list().flatMap((t) => t.layerDirs), ...this.buildLayersInUse.keys()]);
    const entries = this.deps.buildCache.list();
    const unused = new Set(entries.map((e) => e.layerDirs[0] as string).filter((dir) => !used.has(dir)));
    for (const entry of entries) {
      if (entry.layerDirs.some((dir) => unused.has(dir))) this.deps.buildCache.remove(entry.key);
    }
    await Promise.all([...unused].map((dir) => rm(join(dir, '..'), { recursive: true, force: true })));
    return [...unused].map((dir) => posix.basename(posix.dirname(dir)));
  }
}
function emptyInitial(): PlannedStage['initial'] {
  return { env: {}, workdir: '/', user: 'root', config: {} };
}

/** The template a build's last stage stands on, through the stages it starts from; null for scratch. */
function rootTemplate(stages: PlannedStage[]): string | null {
  let stage = stages.at(-1);
  while (stage?.base.kind === 'stage') stage = stages[stage.base.index];
  return stage?.base.kind === 'template' ? stage.base.name : null;
}

function isImageLayer(dir: string): boolean {
  return posix.basename(posix.dirname(dir)).startsWith('img-');
}

function isCacheLayer(dir: string): boolean {
  return posix.basename(posix.dirname(dir)).startsWith('c-');
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
    ...(r.config ? { config: r.config } : {}),
  };
}

/** An image's ENTRYPOINT and CMD as a Dockerfile stage starts with them (an empty one is left out, as Docker shows it). */
function startConfigOf(image: { entrypoint: string[]; cmd: string[] }): TemplateConfig {
  return { ...(image.entrypoint.length ? { entrypoint: image.entrypoint } : {}), ...(image.cmd.length ? { cmd: image.cmd } : {}) };
}

/** What a stage FROM a template starts with: its config, or for a template made from an image, that image's start command. */
function inheritedConfig(parent: TemplateRecord): TemplateConfig {
  if (parent.config) return structuredClone(parent.config);
  return parent.image ? startConfigOf(parent.image) : {};
}

import { type TemplateBuildEvent, TemplateNotFoundError } from '@paddock/core';
import type { Logger } from 'pino';
import { OutputTail } from '../commands/output-tail.js';
import type { TemplateService } from './template-service.js';

export interface BuiltInTemplatesDeps {
  templates: TemplateService;
  /** The templates the daemon carries, by name: a Dockerfile each (`FROM base`, Debian's packages). */
  dockerfiles: Readonly<Record<string, string>>;
  logger?: Logger;
}

/**
 * Builds a template the daemon carries (code-interpreter, desktop) the first
 * time a sandbox asks for it: a shared template, from its Dockerfile, its
 * steps cached as any build's. Callers that ask while it builds wait for the
 * same build; one that goes away does not stop it. Other names pass through.
 */
export class BuiltInTemplates {
  private readonly building = new Map<string, Build>();

  constructor(private readonly deps: BuiltInTemplatesDeps) {}

  /** Whether the daemon carries a template of this name. */
  carries(name: string): boolean {
    return Object.hasOwn(this.deps.dockerfiles, name);
  }

  /**
   * Builds the template if the daemon carries it and it is not built yet; any
   * other name passes through. `onEvent` sees the build's steps so far, then
   * its steps and output as they come (a caller that joins a running build
   * sees where it stands).
   */
  async ensure(name: string, tenant: string, onEvent?: (event: BuildEvent) => void): Promise<void> {
    const file = this.carries(name) ? this.deps.dockerfiles[name] : undefined;
    if (file === undefined || this.built(name, tenant)) return;
    let build = this.building.get(name);
    if (!build) {
      const started: Build = { steps: [], watchers: new Set(), done: Promise.resolve() };
      started.done = this.build(name, file, started).finally(() => this.building.delete(name));
      this.building.set(name, started);
      build = started;
    }
    if (!onEvent) return build.done;
    for (const step of build.steps) onEvent(step);
    build.watchers.add(onEvent);
    try {
      await build.done;
    } finally {
      build.watchers.delete(onEvent);
    }
  }

  /** Whether a template of this name is there for the tenant (built, or one of its own by that name). */
  built(name: string, tenant: string): boolean {
    try {
      this.deps.templates.get(name, tenant);
      return true;
    } catch (err) {
      if (err instanceof TemplateNotFoundError) return false;
      throw err;
    }
  }

  private async build(name: string, file: string, progress: Build): Promise<void> {
    const log = this.deps.logger;
    const caller = { tenant: 'default', admin: true };
    const plan = this.deps.templates.plan({ name, file, fileKind: 'Dockerfile' }, caller);
    log?.info({ template: name }, `building the ${name} template on first use`);
    const started = Date.now();
    // The end of the build's output, for the log when it fails (a mirror out of reach, a package gone).
    const tail = new OutputTail(16 * 1024);
    try {
      await this.deps.templates.build(caller.tenant, plan, {
        emit: (e) => {
          if (e.type === 'step') {
            log?.info({ template: name, step: `${e.index}/${e.total}` }, e.text);
            progress.steps.push(e);
          } else if (e.type === 'log') tail.append(Buffer.from(e.data));
          if (e.type === 'step' || e.type === 'log') for (const watch of progress.watchers) watch(e);
          // Nobody waits on a watcher: one that reads slowly gets its events buffered, the build goes on.
          return true;
        },
        whenDrained: (resume) => resume(),
      });
    } catch (err) {
      log?.warn({ err, template: name, output: tail.bytes().toString('utf8') }, `building the ${name} template failed`);
      throw err;
    }
    log?.info({ template: name, ms: Date.now() - started }, `the ${name} template is built`);
  }
}

/** What a watcher of a first-use build sees: its steps and their output. */
export type BuildEvent = Extract<TemplateBuildEvent, { type: 'step' | 'log' }>;

interface Build {
  /** The steps so far, for a watcher that joins late. */
  steps: BuildEvent[];
  watchers: Set<(event: BuildEvent) => void>;
  done: Promise<void>;
}

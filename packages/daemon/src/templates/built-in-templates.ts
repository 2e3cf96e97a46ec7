import { TemplateNotFoundError } from '@paddock/core';
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
  private readonly building = new Map<string, Promise<void>>();

  constructor(private readonly deps: BuiltInTemplatesDeps) {}

  async ensure(name: string, tenant: string): Promise<void> {
    const file = Object.hasOwn(this.deps.dockerfiles, name) ? this.deps.dockerfiles[name] : undefined;
    if (file === undefined || this.exists(name, tenant)) return;
    let build = this.building.get(name);
    if (!build) {
      build = this.build(name, file).finally(() => this.building.delete(name));
      this.building.set(name, build);
    }
    await build;
  }

  private exists(name: string, tenant: string): boolean {
    try {
      this.deps.templates.get(name, tenant);
      return true;
    } catch (err) {
      if (err instanceof TemplateNotFoundError) return false;
      throw err;
    }
  }

  private async build(name: string, file: string): Promise<void> {
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
          if (e.type === 'step') log?.info({ template: name, step: `${e.index}/${e.total}` }, e.text);
          else if (e.type === 'log') tail.append(Buffer.from(e.data));
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

import { TemplateNotFoundError } from '@paddock/core';
import type { Logger } from 'pino';
import { OutputTail } from '../commands/output-tail.js';
import type { TemplateService } from '../templates/template-service.js';

/** The template code contexts are meant for; built on first use when a sandbox asks for it. */
export const codeInterpreterTemplate = 'code-interpreter';

/**
 * Debian's own packages of the Jupyter stack and the data libraries users of
 * code interpreters expect, through the build's egress proxy to Debian's
 * mirrors (allowed for builds by default). The inline backend makes
 * matplotlib figures come back as images without plt.show().
 */
export const codeInterpreterDockerfile = `FROM base
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \\
 && apt-get install -y -q --no-install-recommends \\
      python3-ipykernel python3-jupyter-client python3-matplotlib-inline \\
      python3-numpy python3-pandas python3-scipy python3-matplotlib python3-pil \\
      python3-sympy python3-requests python3-bs4 python3-openpyxl python3-seaborn \\
      fonts-dejavu-core nodejs \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV MPLBACKEND=module://matplotlib_inline.backend_inline
WORKDIR /work
`;

export interface CodeInterpreterBuilderDeps {
  templates: TemplateService;
  logger?: Logger;
}

/**
 * Builds the code-interpreter template the first time a sandbox asks for it
 * (a shared template, from the Dockerfile above; its steps are cached as any
 * build's). Callers that ask while it builds wait for the same build; one
 * that goes away does not stop it.
 */
export class CodeInterpreterBuilder {
  private building: Promise<void> | undefined;

  constructor(private readonly deps: CodeInterpreterBuilderDeps) {}

  async ensure(tenant: string): Promise<void> {
    if (this.exists(tenant)) return;
    this.building ??= this.build().finally(() => {
      this.building = undefined;
    });
    await this.building;
  }

  private exists(tenant: string): boolean {
    try {
      this.deps.templates.get(codeInterpreterTemplate, tenant);
      return true;
    } catch (err) {
      if (err instanceof TemplateNotFoundError) return false;
      throw err;
    }
  }

  private async build(): Promise<void> {
    const log = this.deps.logger;
    const caller = { tenant: 'default', admin: true };
    const plan = this.deps.templates.plan({ name: codeInterpreterTemplate, file: codeInterpreterDockerfile, fileKind: 'Dockerfile' }, caller);
    log?.info({ template: codeInterpreterTemplate }, 'building the code-interpreter template on first use');
    const started = Date.now();
    // The end of the build's output, for the log when it fails (a mirror out of reach, a package gone).
    const tail = new OutputTail(16 * 1024);
    try {
      await this.deps.templates.build(caller.tenant, plan, {
        emit: (e) => {
          if (e.type === 'step') log?.info({ template: codeInterpreterTemplate, step: `${e.index}/${e.total}` }, e.text);
          else if (e.type === 'log') tail.append(Buffer.from(e.data));
          return true;
        },
        whenDrained: (resume) => resume(),
      });
    } catch (err) {
      log?.warn({ err, template: codeInterpreterTemplate, output: tail.bytes().toString('utf8') }, 'building the code-interpreter template failed');
      throw err;
    }
    log?.info({ template: codeInterpreterTemplate, ms: Date.now() - started }, 'the code-interpreter template is built');
  }
}

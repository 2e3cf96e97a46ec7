import { CommandStartSchema, SandboxIdSchema } from '@paddock/core';
import { z } from 'zod';
import { registerTool } from '../tools/register-tool.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolTable } from '../tools/tool-table.js';
import { CommandOutputSchema, commandOutput, defaultCommandTimeoutMs, shellLine } from './command-output.js';

const argv = CommandStartSchema.shape.cmd;

const RunCommandInput = CommandStartSchema.pick({ cwd: true, env: true, user: true, timeoutMs: true, stdin: true })
  .extend({
    sandboxId: SandboxIdSchema.describe('the sandbox to run in (from sandbox_create)'),
    cmd: z
      .union([argv, argv.element.min(1).describe('a shell command line, run with sh -c')], {
        error: 'cmd is an argv array of strings (at least the program) or a non-empty shell command string',
      })
      .describe('argv array (no shell), or a string run with sh -c (pipes, redirections, &&)'),
  })
  .strict();

export function registerRunCommandTool(tools: ToolTable, context: ToolContext): void {
  registerTool(
    tools,
    context,
    'run_command',
    {
      title: 'Run a command in a sandbox',
      description:
        'Runs a command in a sandbox and waits for it; returns stdout, stderr and exitCode. A non-zero exit code is a result, not an error. ' +
        `The command is killed after timeoutMs (default ${defaultCommandTimeoutMs / 1000} s). Long output keeps its start and end.`,
      input: RunCommandInput,
      output: CommandOutputSchema,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ sandboxId, cmd, ...options }, signal) => {
      const request = { ...options, cmd: typeof cmd === 'string' ? shellLine(cmd) : cmd, timeoutMs: options.timeoutMs ?? defaultCommandTimeoutMs };
      return commandOutput(await context.backend.runCommand(sandboxId, request, signal));
    },
  );
}

import { posix } from 'node:path';
import { BadRequestError, CommandStartSchema, maxSandboxTimeoutMs, SandboxIdSchema, SandboxPathSchema } from '@paddock/core';
import { Code, Sandbox } from '@paddock/sdk';
import { z } from 'zod';
import { CellOutputSchema, cellOutput } from '../code/cell-output.js';
import { fileContent } from '../files/file-content.js';
import { describeError } from '../results/describe-error.js';
import { outputLimits } from '../results/output-limits.js';
import { registerTool, withContent } from '../tools/register-tool.js';
import type { ToolContext } from '../tools/tool-context.js';
import type { ToolTable } from '../tools/tool-table.js';
import { CommandOutputSchema, commandOutput, defaultCommandTimeoutMs } from './command-output.js';

const languages = {
  python: (code: string) => ['python3', '-c', code],
  javascript: (code: string) => ['node', '-e', code],
  bash: (code: string) => ['bash', '-c', code],
} as const;

const RunCodeInput = CommandStartSchema.pick({ cwd: true, env: true, user: true, timeoutMs: true })
  .extend({
    sandboxId: SandboxIdSchema.optional().describe('run in this sandbox; without one, a fresh sandbox is made for the run and killed after it'),
    language: z.enum(['python', 'javascript', 'bash']).describe('python (python3), javascript (node) or bash'),
    code: CommandStartSchema.shape.cmd.element.min(1).describe('the program text, or the cell'),
    contextId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'keep state: run the code as a cell in a code context of sandboxId (a kernel whose variables, imports and functions stay from call to call); ' +
          '"default" for the sandbox\'s default context of the language, or the contextId a previous cell answered with. Needs a template with kernels (code-interpreter)',
      ),
    returnFiles: z
      .array(SandboxPathSchema)
      .max(20)
      .optional()
      .describe(
        `files to read back after the run (relative paths from cwd): text, or base64 when binary; at most ${outputLimits.fileBytes} bytes each and ${outputLimits.returnedBytes} in all`,
      ),
  })
  .strict();

const ReturnedFileSchema = z.object({
  path: z.string(),
  size: z.number().int().optional().describe('bytes'),
  encoding: z.enum(['utf8', 'base64']).optional(),
  content: z.string().optional(),
  error: z.string().optional().describe('why the file was not returned, e.g. file_not_found: …'),
});
type ReturnedFile = z.infer<typeof ReturnedFileSchema>;

// One schema for both answers (a program's, a cell's): what only one of them has is optional.
const RunCodeOutput = z.object({
  ...CommandOutputSchema.pick({ stdout: true, stderr: true, timedOut: true, truncated: true }).shape,
  ...CommandOutputSchema.pick({ pid: true, exitCode: true, signal: true, oomKilled: true }).partial().shape,
  files: z.array(ReturnedFileSchema).optional(),
  ...CellOutputSchema.pick({ contextId: true, results: true, error: true, executionCount: true, kernelDied: true }).partial().shape,
});

export function registerRunCodeTool(tools: ToolTable, context: ToolContext): void {
  registerTool(
    tools,
    context,
    'run_code',
    {
      title: 'Run code',
      description:
        'Runs a Python, JavaScript (Node.js) or bash program in a sandbox and returns stdout, stderr, exitCode and, when asked with returnFiles, the files it wrote. ' +
        'Without sandboxId the program runs in a fresh sandbox that is killed afterwards (nothing persists); pass the id of one from sandbox_create to keep its files between runs. ' +
        'With contextId (and sandboxId) the code is a cell in a kernel that keeps its variables between calls, like a notebook: the answer has stdout, stderr, results ' +
        '(the value of the last expression, tables, charts: each chart follows as an image) and error (name, value, traceback); cwd, env, user and returnFiles do not apply to cells. ' +
        `A non-zero exit code is a result, not an error. Killed after timeoutMs (default ${defaultCommandTimeoutMs / 1000} s).`,
      input: RunCodeInput,
      output: RunCodeOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ sandboxId, language, code, returnFiles, contextId, ...options }, signal) => {
      const timeoutMs = options.timeoutMs ?? defaultCommandTimeoutMs;
      if (contextId !== undefined) {
        if (!sandboxId)
          throw new BadRequestError(
            'contextId needs sandboxId: a code context lives in a sandbox (sandbox_create with template code-interpreter)',
            {},
            'invalid_request',
          );
        const run = await new Code(context.api, sandboxId).run(code, { context: contextId === 'default' ? undefined : contextId, language, timeoutMs, signal });
        const { output, images } = cellOutput(run);
        return withContent(
          output,
          images.map((image) => ({ type: 'image' as const, ...image })),
        );
      }
      const fresh = sandboxId
        ? undefined
        : // Its lifetime outlasts the run a little: a safety net should this process die before killing it.
          await Sandbox.create({ ...context.connection, timeoutMs: Math.min(timeoutMs + 60_000, maxSandboxTimeoutMs), signal });
      const id = fresh?.id ?? (sandboxId as string);
      try {
        const result = await context.backend.runCommand(id, { ...options, cmd: languages[language](code), timeoutMs }, signal);
        const files = await readBack(context, id, returnFiles ?? [], options, signal);
        return { ...commandOutput(result), files };
      } finally {
        // Not with the call's signal: a cancelled run must still end its sandbox.
        await fresh?.kill({ wait: false }).catch(() => {});
      }
    },
  );
}

async function readBack(
  context: ToolContext,
  sandboxId: string,
  paths: string[],
  options: { cwd?: string; user?: string },
  signal: AbortSignal,
): Promise<ReturnedFile[]> {
  const returned: ReturnedFile[] = [];
  let budget = outputLimits.returnedBytes;
  for (const path of paths) {
    // Relative paths mean what they meant to the program; without a cwd the daemon resolves them from the sandbox's workdir.
    const full = options.cwd ? posix.resolve(options.cwd, path) : path;
    const cap = Math.min(outputLimits.fileBytes, budget);
    try {
      const { bytes, truncated } = await context.backend.readFileHead(sandboxId, full, cap, { user: options.user, signal });
      if (truncated) {
        returned.push({ path, error: `file_too_large: more than ${cap} bytes left to return; read it in parts with run_command` });
        continue;
      }
      budget -= bytes.byteLength;
      returned.push({ path, size: bytes.byteLength, ...fileContent(bytes) });
    } catch (err) {
      returned.push({ path, error: describeError(err) });
    }
  }
  return returned;
}

import { z } from 'zod';
import { type CellOutput, cellOutput } from './cell-output.js';
import { type CommandOutput, commandOutput } from './command-output.js';
import type { SandboxSession } from './sandbox-session.js';

/** Bytes of a file read_file returns (the start of a longer one). */
export const maxReadBytes = 256 * 1024;
/** Characters write_file takes in one call. */
export const maxWriteChars = 4 * 1024 * 1024;
/** Entries list_files returns. */
export const maxListEntries = 500;
/** Commands get a deadline unless the model asks for another: a call that never returns ends no loop. */
export const defaultCommandTimeoutMs = 120_000;

/** A tool as every framework adapter needs it: name, description, zod input, and what it does in the session's sandbox. */
export interface PaddockToolSpec<Input extends z.ZodObject = z.ZodObject, Output = unknown> {
  description: string;
  input: Input;
  run(session: SandboxSession, args: z.infer<Input>, signal?: AbortSignal): Promise<Output>;
}

function spec<Input extends z.ZodObject, Output>(s: PaddockToolSpec<Input, Output>): PaddockToolSpec<Input, Output> {
  return s;
}

const timeoutMs = z.number().int().min(1).max(3_600_000).optional().describe(`kill the command after this many ms (default ${defaultCommandTimeoutMs})`);
const cwd = z.string().min(1).optional().describe('working directory (default: the sandbox workdir, /work in base)');
const path = z.string().min(1).max(4096).describe('absolute, or relative to the sandbox workdir (/work in base)');

const languages = {
  python: (code: string) => ['python3', '-c', code],
  javascript: (code: string) => ['node', '-e', code],
  bash: (code: string) => ['bash', '-c', code],
} as const;

const resultNote = 'A non-zero exitCode is a result, not an error.';

/** The tools, bound to one sandbox: its files and processes persist from call to call. */
export const paddockToolSpecs = {
  run_command: spec({
    description: `Runs a shell command (sh -c: pipes, redirections, &&) in the sandbox and waits for it; returns exitCode, stdout and stderr. ${resultNote}`,
    input: z.object({ command: z.string().min(1).describe('the command line'), cwd, timeoutMs }),
    async run(session, args, signal): Promise<CommandOutput> {
      const sandbox = await session.sandbox();
      const result = await sandbox.commands.runAllowingFailure(args.command, {
        cwd: args.cwd,
        timeoutMs: args.timeoutMs ?? defaultCommandTimeoutMs,
        signal,
      });
      return commandOutput(result);
    },
  }),
  run_code: spec({
    description:
      `Runs a Python (python3), JavaScript (node) or bash program in the sandbox; returns exitCode, stdout and stderr. Print what you want to see. ${resultNote} ` +
      'With contextId the code is a cell in a kernel that keeps its variables between calls, like a notebook ("default", or the contextId an earlier cell answered with; ' +
      "the sandbox needs the code-interpreter template): the answer has stdout, stderr, results (the last expression's value, tables, charts as images) and error.",
    input: z.object({
      language: z.enum(['python', 'javascript', 'bash']),
      code: z.string().min(1).describe('the program text, or the cell'),
      contextId: z.string().min(1).max(64).optional().describe('keep state: run as a cell in this code context ("default": the default one of the language)'),
      cwd,
      timeoutMs,
    }),
    async run(session, args, signal): Promise<CommandOutput | CellOutput> {
      const sandbox = await session.sandbox();
      const timeout = args.timeoutMs ?? defaultCommandTimeoutMs;
      if (args.contextId !== undefined) {
        const context = args.contextId === 'default' ? undefined : args.contextId;
        return cellOutput(await sandbox.runCode(args.code, { context, language: args.language, timeoutMs: timeout, signal }));
      }
      const result = await sandbox.commands.runAllowingFailure(languages[args.language](args.code), { cwd: args.cwd, timeoutMs: timeout, signal });
      return commandOutput(result);
    },
  }),
  read_file: spec({
    description: `Reads a text file from the sandbox (at most ${maxReadBytes} bytes: the start of a longer file, marked truncated).`,
    input: z.object({ path }),
    async run(session, args, signal) {
      const sandbox = await session.sandbox();
      const { bytes, truncated } = await sandbox.files.readHead(args.path, maxReadBytes, { signal });
      return { path: args.path, content: new TextDecoder().decode(bytes), truncated };
    },
  }),
  write_file: spec({
    description: 'Writes a text file in the sandbox, replacing it if it exists; parent folders are created.',
    input: z.object({ path, content: z.string().max(maxWriteChars).describe(`the text, at most ${maxWriteChars} characters`) }),
    async run(session, args, signal) {
      const sandbox = await session.sandbox();
      const entry = await sandbox.files.write(args.path, args.content, { signal });
      return { path: entry.path, size: entry.size };
    },
  }),
  list_files: spec({
    description: `Lists a folder of the sandbox: name, type and size of each entry (at most ${maxListEntries}).`,
    input: z.object({ path: path.default('.') }),
    async run(session, args, signal) {
      const sandbox = await session.sandbox();
      const entries = await sandbox.files.list(args.path, { signal });
      return {
        entries: entries.slice(0, maxListEntries).map((e) => ({ name: e.name, type: e.type, size: e.size })),
        truncated: entries.length > maxListEntries,
      };
    },
  }),
};

export type PaddockToolName = keyof typeof paddockToolSpecs;

import { readFile } from 'node:fs/promises';
import type { CodeLanguage } from '@paddock/core';
import { codeTimeoutBounds } from '@paddock/core/client';
import { type CodeResult, Sandbox } from '@paddock/sdk';
import type { Command } from 'commander';
import { connectionFor } from '../connection/connection-for.js';
import { CliError, UsageError } from '../errors/cli-error.js';
import { parseOptionalDuration } from '../options/parse-duration.js';

// The CLI bundle leaves the core's schemas out: the languages are listed here (typed, so a list that names an unknown one fails the build).
const languages: readonly CodeLanguage[] = ['python', 'javascript', 'bash'];

// As timeout(1): the time ran out before the cell did.
const cellTimedOut = 124;

/**
 * `paddock code ID [-f FILE]`: runs a cell in the sandbox's kernel (at a
 * terminal without -f, or with --interactive: a read-eval-print loop), printing
 * its output as it comes and its results as text (an image as a line naming
 * it: a terminal cannot show it). The kernel keeps its variables for the
 * next call.
 */
export async function runCode(
  id: string,
  flags: { file?: string; context?: string; language?: string; timeout?: string; interactive?: boolean },
  command: Command,
): Promise<void> {
  const timeoutMs = parseOptionalDuration(flags.timeout, '--timeout', codeTimeoutBounds);
  const language = parseLanguage(flags.language);
  if (!flags.file && (flags.interactive || process.stdin.isTTY)) {
    const sbx = await Sandbox.connect(id, connectionFor(command));
    const { codeRepl } = await import('./code-repl.js');
    return codeRepl(sbx, { context: flags.context, language, timeoutMs });
  }
  const code = flags.file
    ? await readFile(flags.file, 'utf8').catch((err: Error) => Promise.reject(new UsageError(`cannot read ${flags.file}: ${err.message}`)))
    : await readStdin();
  const sbx = await Sandbox.connect(id, connectionFor(command));
  const r = await sbx.runCode(code, {
    context: flags.context,
    language,
    timeoutMs,
    onStdout: (t) => process.stdout.write(t),
    onStderr: (t) => process.stderr.write(t),
    onResult: (result) => {
      const shown = describe(result);
      if (shown) process.stdout.write(`${shown}\n`);
    },
  });
  if (r.kernelDied) throw new CliError(`the kernel died; restart its context (context ${r.contextId})`);
  if (r.timedOut) throw new CliError(`the cell ran past its timeout and was interrupted (the kernel keeps its state)`, cellTimedOut);
  if (r.error) {
    process.stderr.write(`${r.error.traceback || `${r.error.name}: ${r.error.value}`}\n`);
    throw new CliError(`${r.error.name}: ${r.error.value}`);
  }
}

function parseLanguage(given: string | undefined): CodeLanguage | undefined {
  if (given === undefined) return undefined;
  const language = languages.find((l) => l === given);
  if (!language) throw new UsageError(`--language: ${given} is not one of ${languages.join(', ')}`);
  return language;
}

function describe(result: CodeResult): string | undefined {
  if (result.png !== undefined) return `[image/png, ${Math.floor((result.png.length * 3) / 4)} bytes]`;
  if (result.jpeg !== undefined) return `[image/jpeg, ${Math.floor((result.jpeg.length * 3) / 4)} bytes]`;
  return result.text ?? (result.svg !== undefined ? '[image/svg+xml]' : result.html !== undefined ? '[text/html]' : undefined);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

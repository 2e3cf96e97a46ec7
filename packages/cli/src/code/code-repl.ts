import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { CodeLanguage } from '@paddock/core';
import type { CodeResult, Sandbox } from '@paddock/sdk';

/** A line that opens a block: the cell goes on until a blank line. */
const opensBlock = /[:{([\\]\s*$/;

/**
 * `paddock code ID` at a terminal (or with --interactive): a read-eval-print
 * loop on the context's kernel. A line runs at once unless it opens a block
 * (ends in `:`, `{`, `(`, `[` or `\`); then lines gather into one cell until
 * a blank line. Output is printed as it comes, a value as text, an image is
 * saved to a file in the working folder and its path printed. Ctrl-C stops
 * the running cell (the kernel keeps its state) or drops the lines typed;
 * Ctrl-D, or the end of stdin, ends the loop.
 */
export async function codeRepl(sbx: Sandbox, options: { context?: string; language?: CodeLanguage; timeoutMs?: number }): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
  const prompt = (more: boolean) => {
    rl.setPrompt(more ? '... ' : '>>> ');
    rl.prompt();
  };
  let buffer: string[] = [];
  let running: { contextId?: string } | undefined;
  let images = 0;
  rl.on('SIGINT', () => {
    if (running) {
      if (running.contextId) void sbx.code.interruptContext(running.contextId).catch(() => {});
      return;
    }
    buffer = [];
    process.stdout.write('\n');
    prompt(false);
  });
  const saveImage = async (result: CodeResult): Promise<string | undefined> => {
    const [ext, data] = result.png !== undefined ? ['png', result.png] : result.jpeg !== undefined ? ['jpg', result.jpeg] : [];
    if (!ext || data === undefined) return undefined;
    images += 1;
    const path = `paddock-code-${process.pid}-${images}.${ext}`;
    await writeFile(path, Buffer.from(data, 'base64'));
    return path;
  };
  const run = async (code: string) => {
    running = { contextId: options.context };
    const pending: Promise<void>[] = [];
    try {
      const r = await sbx.runCode(code, {
        context: options.context,
        language: options.language,
        timeoutMs: options.timeoutMs,
        onStdout: (t) => process.stdout.write(t),
        onStderr: (t) => process.stderr.write(t),
        onResult: (result) => {
          pending.push(
            saveImage(result).then((path) => {
              const shown = path ? `[image saved to ${path}]` : (result.text ?? (result.html !== undefined ? '[text/html]' : undefined));
              if (shown) process.stdout.write(`${shown}\n`);
            }),
          );
        },
      });
      // A context started by this cell is known from its answer: later Ctrl-Cs reach it.
      options.context ??= r.contextId;
      await Promise.all(pending);
      if (r.error) process.stderr.write(`${r.error.traceback || `${r.error.name}: ${r.error.value}`}\n`);
      if (r.timedOut) process.stderr.write('interrupted at the timeout (the kernel keeps its state)\n');
      if (r.kernelDied) process.stderr.write(`the kernel died; restart its context (context ${r.contextId})\n`);
    } catch (err) {
      process.stderr.write(`paddock: ${(err as Error).message}\n`);
    } finally {
      running = undefined;
    }
  };
  prompt(false);
  for await (const line of rl) {
    if (buffer.length === 0 && !opensBlock.test(line)) {
      if (line.trim()) await run(line);
      prompt(false);
      continue;
    }
    if (line.trim() === '' && buffer.length > 0) {
      const cell = buffer.join('\n');
      buffer = [];
      await run(cell);
      prompt(false);
      continue;
    }
    buffer.push(line);
    prompt(true);
  }
  // The end of input ends a cell still being typed.
  if (buffer.length) await run(buffer.join('\n'));
  process.stdout.write('\n');
}

import { Readable } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import { runCleanups } from '../lifecycle/cleanup.js';
import { reportFailure } from '../lifecycle/fail-cli.js';
import { buildProgram } from '../program/build-program.js';
import { runCommand } from '../program/run-cli.js';

/**
 * The fast test tier's CLI host (packages/daemon/src/testing/run-cli.ts): a
 * worker thread that loads the CLI once and runs one command after another,
 * each with its own argv, environment, stdin and captured output, as a
 * process of its own would. Loading the CLI is most of what a short command
 * costs; the tier runs a few hundred of them. Never part of `paddock` itself.
 */
export interface CliJob {
  args: string[];
  env: Record<string, string | undefined>;
  stdin: string;
}

export interface CliJobResult {
  code: number;
  stdout: string;
  stderr: string;
}

type Write = typeof process.stdout.write;

/** Replaces a stream's write with one that keeps the text, until the returned function puts it back. */
function capture(stream: NodeJS.WriteStream, into: string[]): () => void {
  const original = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as Write;
  return () => {
    stream.write = original;
  };
}

function useEnvironment(env: CliJob['env']): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
}

function useStdin(text: string): void {
  Object.defineProperty(process, 'stdin', { value: Readable.from([Buffer.from(text)]), configurable: true, writable: true });
}

// A failure nobody awaited ends the command as it would end the CLI (install-exit-handlers.ts).
let strayFailure: ((err: unknown) => void) | undefined;
process.on('unhandledRejection', (err) => strayFailure?.(err));
process.on('uncaughtException', (err) => strayFailure?.(err));

async function run(job: CliJob): Promise<CliJobResult> {
  const out: string[] = [];
  const err: string[] = [];
  useEnvironment(job.env);
  useStdin(job.stdin);
  process.exitCode = undefined;
  const restore = [capture(process.stdout, out), capture(process.stderr, err)];
  try {
    const stray = new Promise<number>((resolve) => {
      strayFailure = (e) => resolve(reportFailure(e));
    });
    const argv = [process.execPath, 'paddock', ...job.args];
    const code = await Promise.race([buildProgram(argv).then((program) => runCommand(program, argv)), stray]);
    await runCleanups();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    strayFailure = undefined;
    for (const put of restore) put();
  }
}

parentPort?.on('message', (job: CliJob) => {
  void run(job).then((result) => parentPort?.postMessage(result));
});

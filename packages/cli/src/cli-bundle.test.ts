import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../../daemon/src/testing/run-cli.js';

// The bundled CLI as bundle-cli.mjs writes it: every `paddock` call pays for
// the JavaScript it reads and compiles before its command runs.
const entry = cliPath();
const outDir = dirname(entry);
const work = mkdtempSync('/tmp/paddock-cli-bundle-');

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The files a module imports statically (`import … from "./x.mjs"`), which load before it runs; `import("./x.mjs")` waits for its command. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*)"(\.\.?\/[^"]+\.mjs)"/g)].map((m) => join(dirname(file), m[1] as string));
}

function loadedBeforeAnyCommand(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const next of staticImports(file)) loadedBeforeAnyCommand(next, seen);
  return seen;
}

function bundleFiles(): string[] {
  return readdirSync(outDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => join(outDir, f));
}

const bytes = (files: Iterable<string>) => [...files].reduce((sum, f) => sum + statSync(f).size, 0);

describe('the bundled CLI', () => {
  it('loads only commander and the command table before a command runs: each command, the SDK and the MCP server are chunks loaded on demand', () => {
    const atStart = loadedBeforeAnyCommand(entry);
    const everything = bundleFiles();
    // The whole CLI is well over a megabyte (zod, the MCP SDK, ws); one file of it cost ~120 ms of CPU per call.
    expect(bytes(everything)).toBeGreaterThan(1_000_000);
    expect(bytes(atStart)).toBeLessThan(150_000);
    expect(everything.some((f) => !atStart.has(f))).toBe(true);
  });

  it('is plain ASCII, so Node decodes its source on the fast path', () => {
    const nonAscii = bundleFiles().filter((f) => readFileSync(f).some((byte) => byte > 0x7f));
    expect(nonAscii).toEqual([]);
  });

  it('runs through a symlink in another folder, as `make up` installs it, finding its chunks beside the real file', () => {
    const link = join(work, 'paddock');
    symlinkSync(entry, link);
    const help = spawnSync(process.execPath, [link, 'run', '--help'], { encoding: 'utf8', cwd: work, env: { PATH: process.env.PATH } });
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: paddock run');
    // A command's own code is a chunk: a usage error from it proves the chunk loaded.
    const run = spawnSync(process.execPath, [link, 'run'], { encoding: 'utf8', cwd: work, env: { PATH: process.env.PATH } });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^paddock: .+\n$/);
  });
});

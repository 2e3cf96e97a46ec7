import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** The module chunks' files (the launcher and the ES module build). */
function moduleFiles(): string[] {
  return readdirSync(outDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => join(outDir, f));
}

const bytes = (files: Iterable<string>) => [...files].reduce((sum, f) => sum + statSync(f).size, 0);

/** The launcher's own account of how it started (PADDOCK_CLI_CODE_CACHE=report), and the command's outcome. */
function start(cli: string, args: string[], cwd = work) {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, env: { PATH: process.env.PATH, PADDOCK_CLI_CODE_CACHE: 'report' } });
  const [how = '', ...rest] = run.stderr.split('\n');
  return { status: run.status, how, stderr: rest.join('\n'), stdout: run.stdout };
}

/** A copy of the bundle (launcher, script, cache, module chunks) to damage; `drop` leaves those files out. */
function copyOfBundle(name: string, drop: string[] = []): string {
  const dir = join(work, name);
  for (const file of ['paddock.mjs', 'paddock-main.cjs', 'paddock-main.cjs.cache', 'paddock-main.cjs.cache.json', 'paddock-main.mjs', 'paddock-chunks']) {
    if (!drop.includes(file)) cpSync(join(outDir, file), join(dir, file), { recursive: true });
  }
  return join(dir, 'paddock.mjs');
}

describe('the bundled CLI', () => {
  it('starts from one script with the code cache the build made for this Node', () => {
    const help = start(entry, ['run', '--help']);
    expect(help.how).toBe('paddock: code cache used');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: paddock run');
    // It needs no module chunk: without them it still runs its commands.
    const alone = copyOfBundle('script-only', ['paddock-main.mjs', 'paddock-chunks']);
    const usage = start(alone, ['run']);
    expect(usage.how).toBe('paddock: code cache used');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^paddock: .+\n$/);
  });

  it('with a cache made for another Node (or other flags), starts from the module chunks: V8 would reject it and compile the whole script', () => {
    const other = copyOfBundle('other-node', ['paddock-main.cjs']);
    writeFileSync(join(dirname(other), 'paddock-main.cjs.cache.json'), JSON.stringify({ node: 'v0.0.1', arch: process.arch, flags: [''] }));
    const help = start(other, ['run', '--help']);
    expect(help.how).toBe('paddock: no code cache for this Node and flags: started from the module chunks');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: paddock run');
    const flagged = spawnSync(process.execPath, ['--stack-size=2000', entry, '--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PADDOCK_CLI_CODE_CACHE: 'report' },
    });
    expect(flagged.stderr).toContain('started from the module chunks');
    expect(flagged.status).toBe(0);
  });

  it('runs when its cache is damaged: V8 rejects it and compiles the script', () => {
    const damaged = copyOfBundle('damaged');
    writeFileSync(join(dirname(damaged), 'paddock-main.cjs.cache'), Buffer.alloc(4096, 7));
    const version = start(damaged, ['--version']);
    expect(version.how).toBe('paddock: code cache rejected by V8');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('without a cache, loads only commander and the command table before a command runs: each command, the SDK and the MCP server are chunks loaded on demand', () => {
    const atStart = loadedBeforeAnyCommand(join(outDir, 'paddock-main.mjs'));
    const everything = moduleFiles();
    // The whole CLI is well over a megabyte (zod, the MCP SDK, ws); compiled from one file, it cost ~120 ms of CPU per call.
    expect(bytes(everything)).toBeGreaterThan(1_000_000);
    expect(bytes(atStart)).toBeLessThan(150_000);
    expect(everything.some((f) => !atStart.has(f))).toBe(true);
  });

  it('is plain ASCII, so Node decodes its source on the fast path', () => {
    const nonAscii = [...moduleFiles(), join(outDir, 'paddock-main.cjs')].filter((f) => readFileSync(f).some((byte) => byte > 0x7f));
    expect(nonAscii).toEqual([]);
  });

  it('runs through a symlink in another folder, as `make up` installs it, finding its script, cache and chunks beside the real file', () => {
    const link = join(work, 'paddock');
    symlinkSync(entry, link);
    const help = start(link, ['run', '--help']);
    expect(help.how).toBe('paddock: code cache used');
    expect(help.stderr).toBe('');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: paddock run');
    // A command's own code loads when it runs: a usage error from it proves it did.
    const run = start(link, ['run']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^paddock: .+\n$/);
  });
});

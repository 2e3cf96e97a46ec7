import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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

/** Nothing listens there: a command that calls the daemon fails at once, the same way from either build. */
const deadDaemon = { PADDOCK_URL: 'http://127.0.0.1:1', PADDOCK_TOKEN: 'none' };

/** The launcher's own account of how it started (PADDOCK_CLI_CODE_CACHE=report), and the command's outcome. */
function start(cli: string, args: string[], cwd = work) {
  const run = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd,
    env: { PATH: process.env.PATH, ...deadDaemon, PADDOCK_CLI_CODE_CACHE: 'report' },
  });
  const [how = '', ...rest] = run.stderr.split('\n');
  return { status: run.status, how, stderr: rest.join('\n'), stdout: run.stdout };
}

/** A copy of the bundle (launcher, script, cache and its stamp, module chunks), files' times kept; `drop` leaves those out. */
function copyOfBundle(name: string, drop: string[] = []): string {
  const dir = join(work, name);
  for (const file of ['paddock.mjs', 'paddock-main.cjs', 'paddock-main.cjs.cache', 'paddock-main.cjs.cache.json', 'paddock-main.mjs', 'paddock-chunks']) {
    if (!drop.includes(file)) cpSync(join(outDir, file), join(dir, file), { recursive: true, preserveTimestamps: true });
  }
  return join(dir, 'paddock.mjs');
}

/** Overwrites a file's bytes and puts its modification time back, as a change the stamp cannot see. */
function overwriteKeepingTime(path: string, data: Buffer): void {
  const { atime, mtime } = statSync(path);
  writeFileSync(path, data);
  utimesSync(path, atime, mtime);
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

  it('with a cache made for another Node, other flags or another build of the script, starts from the module chunks: V8 would reject it, or run another build', () => {
    const other = copyOfBundle('other-node', ['paddock-main.cjs']);
    const stampFile = join(dirname(other), 'paddock-main.cjs.cache.json');
    writeFileSync(stampFile, readFileSync(stampFile, 'utf8').replace(process.version, 'v0.0.1'));
    const help = start(other, ['run', '--help']);
    expect(help.how).toBe('paddock: no code cache for this Node, flags and build: started from the module chunks');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: paddock run');
    const flagged = spawnSync(process.execPath, ['--stack-size=2000', entry, '--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, PADDOCK_CLI_CODE_CACHE: 'report' },
    });
    expect(flagged.stderr).toContain('started from the module chunks');
    expect(flagged.status).toBe(0);
    // A script rebuilt after its cache was made (here: the same length, which is all V8 compares): the stamp names the build.
    const rebuilt = copyOfBundle('rebuilt');
    const script = join(dirname(rebuilt), 'paddock-main.cjs');
    const source = readFileSync(script, 'latin1');
    writeFileSync(
      script,
      source.replace(/^\/\*paddock-build:\w/, (head) => `${head.slice(0, -1)}${head.endsWith('0') ? '1' : '0'}`),
      'latin1',
    );
    expect(start(rebuilt, ['--version']).how).toBe('paddock: no code cache for this Node, flags and build: started from the module chunks');
  });

  it('runs when V8 rejects its cache (a header damaged in place, the stamp still fitting): the script is compiled', () => {
    const damaged = copyOfBundle('damaged');
    const cache = join(dirname(damaged), 'paddock-main.cjs.cache');
    const bytes = readFileSync(cache);
    bytes.fill(7, 0, 64);
    overwriteKeepingTime(cache, bytes);
    const version = start(damaged, ['--version']);
    expect(version.how).toBe('paddock: code cache rejected by V8');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('answers the same from the script as from the module chunks', () => {
    const chunksOnly = copyOfBundle('chunks-only', ['paddock-main.cjs', 'paddock-main.cjs.cache', 'paddock-main.cjs.cache.json']);
    for (const args of [
      ['--help'],
      ['run', '--help'],
      ['no-such-command'],
      ['run'],
      ['ls', '--json'],
      ['exec', 'sb-000000000000', '--', 'true'],
      ['mcp', '--help'],
    ]) {
      const fromScript = start(entry, args);
      const fromChunks = start(chunksOnly, args);
      expect(fromScript.how, args.join(' ')).toBe('paddock: code cache used');
      expect(fromChunks.how, args.join(' ')).toContain('started from the module chunks');
      expect({ status: fromScript.status, stdout: fromScript.stdout, stderr: fromScript.stderr }, args.join(' ')).toEqual({
        status: fromChunks.status,
        stdout: fromChunks.stdout,
        stderr: fromChunks.stderr,
      });
    }
  });

  it('has no import() left in the script: it runs with no module loader to answer one', () => {
    // A method named import (the SDK's Templates.import) is followed by its body; an import() call is not.
    const calls = readFileSync(join(outDir, 'paddock-main.cjs'), 'latin1').match(/(?<![\w$.])import\((?![^()]*\)\s*\{)/g);
    expect(calls).toBeNull();
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

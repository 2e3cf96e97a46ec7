#!/usr/bin/env node
// `paddock` (dist/paddock.mjs, copied there by bundle-cli.mjs). Node 20 keeps
// no compiled code between runs, and compiling the CLI's modules was a third
// of a call's own time. So the CLI is also bundled as one script,
// paddock-main.cjs, with V8's code cache for it: the functions a `paddock run`
// compiled at build time, by the Node that built it (paddock-main.cjs.cache;
// the .json beside it says for which Node and flags). Started with that cache
// the script costs a read and a copy, not a compile. Another Node or other
// flags would make V8 reject the cache and compile the whole script, so then
// the ES module chunks start the CLI instead (paddock-main.mjs), loading only
// what the command needs.
//
// PADDOCK_CLI_CODE_CACHE=write (the build): run from the script without a
// cache and write one, for this Node, when the command ends.
// PADDOCK_CLI_CODE_CACHE=report: say on stderr how the CLI started.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const script = fileURLToPath(new URL('paddock-main.cjs', import.meta.url));
const cacheFile = `${script}.cache`;
const stampFile = `${script}.cache.json`;
const mode = process.env.PADDOCK_CLI_CODE_CACHE;
const thisNode = JSON.stringify({ node: process.version, arch: process.arch, flags: [...process.execArgv, process.env.NODE_OPTIONS ?? ''] });

/** The cache made for this very Node and flags, or undefined (none, another Node's, unreadable). */
function fittingCache() {
  try {
    return readFileSync(stampFile, 'latin1') === thisNode ? readFileSync(cacheFile) : undefined;
  } catch {
    return undefined;
  }
}

function report(how) {
  if (mode === 'report') process.stderr.write(`paddock: ${how}\n`);
}

/** Writes the cache and then its stamp, each whole (a reader never sees half a file). */
function writeCache(data) {
  writeFileSync(`${cacheFile}.tmp`, data);
  renameSync(`${cacheFile}.tmp`, cacheFile);
  writeFileSync(`${stampFile}.tmp`, thisNode);
  renameSync(`${stampFile}.tmp`, stampFile);
}

function runScript(cachedData) {
  // The bundle is ASCII (bundle-cli.mjs): read as latin1, it needs no UTF-8 decoding.
  const source = readFileSync(script, 'latin1');
  // CommonJS's own wrapper, spelled the same at build and at run: the cache is checked against this whole text.
  const compiled = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: script, cachedData });
  report(
    cachedData === undefined ? 'started from the script, without a code cache' : compiled.cachedDataRejected ? 'code cache rejected by V8' : 'code cache used',
  );
  if (mode === 'write') process.once('exit', () => writeCache(compiled.createCachedData()));
  const module = { exports: {} };
  compiled.runInThisContext()(module.exports, createRequire(script), module, script, dirname(script));
}

const cachedData = mode === 'write' ? undefined : fittingCache();
if (cachedData !== undefined || mode === 'write') runScript(cachedData);
else {
  report('no code cache for this Node and flags: started from the module chunks');
  await import('./paddock-main.mjs');
}

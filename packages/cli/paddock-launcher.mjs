#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS PADDOCK_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node
// `paddock` (dist/paddock.mjs, copied there by bundle-cli.mjs). Node 20 keeps
// no compiled code between runs, and compiling the CLI's modules was a third
// of a call's own time. So the CLI is also bundled as one script,
// paddock-main.cjs, with V8's code cache for it: the functions a `paddock run`
// compiled at build time, by the Node that built it (paddock-main.cjs.cache).
// Started with that cache the script costs a read and a copy, not a compile.
// The stamp beside them (.cache.json) says which Node and flags the cache was
// made for, which build of the script (the id on its first line) and how
// long the cache is: V8 checks only a cache's header and the script's length,
// so a cache of another build would run that build's code. (Bytes of a cache
// changed in place are not caught: V8 may stop on them; `make build` makes a
// new one.) When the stamp does not fit, the ES module chunks start the CLI
// instead (paddock-main.mjs), loading only what the command needs.
//
// PADDOCK_CLI_CODE_CACHE=write (the build): run from the script without a
// cache and write one, and its stamp, when the command ends.
// PADDOCK_CLI_CODE_CACHE=report: say on stderr how the CLI started.
//
// The first line moves NODE_EXTRA_CA_CERTS aside before Node starts. Node
// reads that file, and builds its whole store of root certificates with it,
// before running any script: 40-45 ms of every call where it is set (a
// system bundle of ~140 certificates), for a CLI that mostly speaks plain
// http to a local daemon. The CLI adds the file to what it trusts when its
// daemon's URL is https (connection-for.ts); the processes it starts get the
// variable back as it was. Started as `node paddock.mjs`, Node reads it as usual.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const deferredExtraCa = process.env.PADDOCK_NODE_EXTRA_CA_CERTS;
if (deferredExtraCa) process.env.NODE_EXTRA_CA_CERTS = deferredExtraCa;
else delete process.env.PADDOCK_NODE_EXTRA_CA_CERTS;

const script = fileURLToPath(new URL('paddock-main.cjs', import.meta.url));
const cacheFile = `${script}.cache`;
const stampFile = `${script}.cache.json`;
const mode = process.env.PADDOCK_CLI_CODE_CACHE;

// The bundle is ASCII (bundle-cli.mjs): read as latin1, it needs no UTF-8 decoding.
const readScript = () => readFileSync(script, 'latin1');

/** The build id bundle-cli.mjs writes on the script's first line. */
const buildIdOf = (source) => /^\/\*paddock-build:(\w+)\*\//.exec(source)?.[1] ?? '';

/** What a cache must have been made for to be used: this Node and flags, this build of the script, these many bytes. */
function stamp(source, cacheBytes) {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
  return JSON.stringify({ node: process.version, arch: process.arch, flags, build: buildIdOf(source), cacheBytes });
}

/** The script and the cache made for it on this Node, or undefined when there is none that fits (none, another's, unreadable). */
function scriptAndCache() {
  try {
    const stampText = readFileSync(stampFile, 'latin1');
    const source = readScript();
    const cachedData = readFileSync(cacheFile);
    return stampText === stamp(source, cachedData.length) ? { source, cachedData } : undefined;
  } catch {
    return undefined;
  }
}

function report(how) {
  if (mode === 'report' || mode === 'write') process.stderr.write(`paddock: ${how}\n`);
}

/** Writes `data` to `path` whole, through a new file of its own (never through a link someone left at a fixed name). */
function replaceFile(path, data) {
  const fresh = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(fresh, data, { flag: 'wx', mode: 0o644 });
  renameSync(fresh, path);
}

function writeCache(source, data) {
  replaceFile(cacheFile, data);
  replaceFile(stampFile, stamp(source, data.length));
  report('code cache written');
}

function runScript(source, cachedData) {
  // CommonJS's own wrapper, spelled the same at build and at run: the cache is made for this whole text.
  const compiled = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: script, cachedData });
  if (mode === 'write') process.once('exit', () => writeCache(source, compiled.createCachedData()));
  else report(compiled.cachedDataRejected ? 'code cache rejected by V8' : 'code cache used');
  const module = { exports: {} };
  compiled.runInThisContext()(module.exports, createRequire(script), module, script, dirname(script));
}

if (mode === 'write') runScript(readScript(), undefined);
else {
  const fitting = scriptAndCache();
  if (fitting) runScript(fitting.source, fitting.cachedData);
  else {
    report('no code cache for this Node, flags and build: started from the module chunks');
    await import('./paddock-main.mjs');
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { logFlushMs } from '../own-log.js';
import { cleanupStateDir } from './cleanup.js';

export const daemonMain = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
// The bundled CLI, as `make up` installs it.
export const cliMain = fileURLToPath(new URL('../../../cli/dist/paddock.mjs', import.meta.url));
export const testRootPrefix = '/tmp/paddock-test-';

/** An API answer whose JSON body tests read loosely: each assertion says what it expects of it. */
export interface ApiResponse extends Response {
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the body's shape themselves
  json(): Promise<any>;
}

export interface TestDaemon {
  url: string;
  token: string;
  stateDir: string;
  pid: number;
  /** Connection options for the SDK. */
  conn: { url: string; token: string };
  /** Environment for running the CLI against this daemon. */
  env: NodeJS.ProcessEnv;
  /** Calls the API with the token. */
  api(path: string, init?: RequestInit): Promise<ApiResponse>;
  /** SIGKILLs the daemon process (sandboxes stay). */
  crash(): Promise<void>;
  /** Starts the daemon again on the same state folder. */
  restart(): Promise<void>;
  /** The log as written so far (the daemon writes its lines in batches). */
  log(): string;
  /** The log once every line logged until now is written: for checking what it does not hold. */
  logWritten(): Promise<string>;
  /** Kills every sandbox, stops the daemon and removes its state folder. */
  stop(): Promise<void>;
}

/** Starts a real paddockd in its own state folder on a free port. */
export async function startTestDaemon(extraArgs: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<TestDaemon> {
  const stateDir = await mkdtemp(testRootPrefix);
  const logFile = `${stateDir}.log`;
  let child: ChildProcess;
  let endpoint: { url: string; pid: number };
  let token = '';
  let previousPid = -1;

  const launch = async () => {
    // Under tini as a subreaper, as `make up` runs it: sandbox inits that outlive
    // runc are reaped instead of piling up as zombies under PID 1.
    child = spawn('tini', ['-s', '--', daemonMain, '--state-dir', stateDir, '--port', '0', ...extraArgs], {
      stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
      env: { ...process.env, PADDOCK_CACHE_DIR: process.env.PADDOCK_CACHE_DIR ?? '/var/cache/paddock', ...extraEnv },
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`paddockd exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
      const file = `${stateDir}/endpoint.json`;
      // Read as it is found: the old daemon's file may still be there, and go, as the new one starts.
      const text = existsSync(file) ? await readFile(file, 'utf8').catch(() => null) : null;
      if (text) {
        const parsed = JSON.parse(text) as { url: string; pid: number };
        if (parsed.pid !== previousPid) {
          endpoint = parsed;
          break;
        }
      }
      if (Date.now() > deadline) throw new Error(`paddockd did not start:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    token = (await readFile(`${stateDir}/token`, 'utf8')).trim();
  };
  await launch();

  const waitExit = () =>
    new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  const daemon: TestDaemon = {
    get url() {
      return endpoint.url;
    },
    get token() {
      return token;
    },
    stateDir,
    get pid() {
      return endpoint.pid;
    },
    get conn() {
      return { url: endpoint.url, token };
    },
    get env() {
      return { ...process.env, PADDOCK_URL: endpoint.url, PADDOCK_TOKEN: token };
    },
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
      return fetch(endpoint.url + path, { ...init, headers });
    },
    async crash() {
      previousPid = endpoint.pid;
      // Gone before the daemon is: another test run sweeps a state folder whose
      // endpoint names a dead process, and this one is meant to start again.
      rmSync(`${stateDir}/endpoint.json`, { force: true });
      process.kill(endpoint.pid, 'SIGKILL');
      await waitExit();
      // Without its endpoint (and with a fresh mtime) the folder reads as a daemon
      // starting up: another test run's sweep leaves it alone until restart().
      rmSync(`${stateDir}/endpoint.json`, { force: true });
    },
    async restart() {
      await launch();
    },
    log() {
      return readFileSync(logFile, 'utf8');
    },
    async logWritten() {
      await new Promise((resolve) => setTimeout(resolve, 2 * logFlushMs + 100));
      return readFileSync(logFile, 'utf8');
    },
    async stop() {
      if (child.exitCode !== null) {
        // It died on its own: show why before the log goes away.
        console.error(`paddockd exited unexpectedly (${child.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
      }
      if (child.exitCode === null && child.signalCode === null) {
        await daemon.api('/v1/sandboxes', { method: 'DELETE' }).catch(() => {});
        child.kill('SIGTERM');
        await waitExit();
      }
      await cleanupStateDir(stateDir);
    },
  };
  return daemon;
}

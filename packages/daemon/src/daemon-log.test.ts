import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cleanupStateDir } from './testing/cleanup.js';
import { daemonMain, testRootPrefix } from './testing/test-daemon.js';

interface LogLine {
  msg?: string;
  req?: string;
  path?: string;
  status?: number;
}

// paddockd buffers its log lines (they are written in batches): none may be lost.
describe("paddockd's log", () => {
  it('has a line for each request while it runs, and the lines of the last requests once it stopped', async () => {
    const stateDir = await mkdtemp(testRootPrefix);
    const child = spawn(process.execPath, [daemonMain, '--state-dir', stateDir, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PADDOCK_CACHE_DIR: process.env.PADDOCK_CACHE_DIR ?? '/var/cache/paddock' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += String(d);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    const requestLine = (id: string) => lines().find((l) => l.msg === 'request' && l.req === id);
    try {
      const url = await endpointOf(stateDir, () => child.exitCode !== null);
      const health = (id: string) => fetch(`${url}/v1/health`, { headers: { 'x-request-id': id } });

      for (const id of ['log-a', 'log-b', 'log-c']) expect((await health(id)).status).toBe(200);
      // Written while the daemon runs, without anything else happening.
      for (let i = 0; i < 500 && !requestLine('log-c'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(['log-a', 'log-b', 'log-c'].map((id) => requestLine(id)?.status)).toEqual([200, 200, 200]);

      // Still in the buffer when the daemon is told to stop.
      expect((await health('log-last')).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(requestLine('log-last')).toMatchObject({ path: '/v1/health', status: 200 });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await cleanupStateDir(stateDir);
    }
  });
});

async function endpointOf(stateDir: string, gone: () => boolean): Promise<string> {
  const file = `${stateDir}/endpoint.json`;
  for (let i = 0; i < 1500; i++) {
    if (gone()) throw new Error('paddockd exited before it listened');
    const text = existsSync(file) ? await readFile(file, 'utf8').catch(() => null) : null;
    if (text) return (JSON.parse(text) as { url: string }).url;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('paddockd did not start');
}

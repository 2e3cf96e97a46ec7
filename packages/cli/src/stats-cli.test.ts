import { spawn } from 'node:child_process';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { cliPath, runCli } from '../../daemon/src/testing/run-cli.js';

// `paddock stats` against an in-process daemon whose fake sandboxes read as
// idle (one process, no limits): the table's columns and the JSON's shape.
let daemon: FastDaemon;
let box: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon(['--metrics-interval', '200']);
  box = await Sandbox.create({ ...daemon.conn, metadata: { task: 'stats' } });
  // A reading exists after the first tick.
  while ((await box.metrics()).current === null) await new Promise((resolve) => setTimeout(resolve, 100));
});

afterAll(async () => {
  await daemon?.stop();
});

const paddock = (args: string[]) => runCli(args, { env: daemon.env });

describe('paddock stats', () => {
  it('--no-stream prints one table like docker stats', async () => {
    const run = await paddock(['stats', '--no-stream']);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+TEMPLATE\s+STATE\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+PIDS$/);
    const row = rows.find((r) => r.startsWith(box.id));
    expect(row).toMatch(new RegExp(`^${box.id}\\s+base\\s+running\\s+0\\.00%\\s+0B / unlimited\\s+--\\s+0B / 0B\\s+1$`));
  });

  it('--json --no-stream prints the readings as a JSON array; named ids only', async () => {
    const other = await Sandbox.create({ ...daemon.conn });
    const run = await paddock(['stats', box.id, '--no-stream', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expect(parsed).toEqual([
      {
        id: box.id,
        template: 'base',
        state: 'running',
        metrics: expect.objectContaining({ cpuPercent: 0, pids: 1, memoryLimitBytes: null, netRxBytes: 0, egressRefused: 0 }),
      },
    ]);
    await other.kill();
  });

  it('streams a JSON line per sampling tick, with sandboxes made meanwhile, until interrupted', async () => {
    const child = spawn(process.execPath, [cliPath(), 'stats', '--json'], { env: daemon.env });
    const lines: Array<Array<{ id: string; metrics: unknown }>> = [];
    let pending = '';
    const seen = (match: (line: Array<{ id: string; metrics: unknown }>) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (lines.some(match)) resolve();
          else child.stdout.once('data', () => setImmediate(check));
        };
        check();
      });
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) if (part) lines.push(JSON.parse(part));
    });
    await seen((line) => line.some((r) => r.id === box.id));
    const late = await Sandbox.create({ ...daemon.conn });
    await seen((line) => line.some((r) => r.id === late.id && r.metrics !== null));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    child.kill('SIGINT');
    // Ended by Ctrl-C, as every command: 128 + 2.
    expect(await exited).toBe(130);
    await late.kill();
  });

  it('an unknown sandbox is a one-line error and a non-zero exit', async () => {
    const run = await paddock(['stats', 'sb-000000000000', '--no-stream']);
    expect(run.code).not.toBe(0);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/sb-000000000000/);
  });
});

import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from './fast-daemon.js';

let daemon: FastDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

describe('the fast tier daemon', () => {
  it('creates a sandbox, runs a command in it and moves files in and out', async () => {
    const sandbox = await Sandbox.create({ ...daemon.conn });
    const result = await sandbox.commands.run(['sh', '-c', 'echo out; echo err >&2; exit 3']).catch((e) => e);
    expect(result.exitCode ?? result.result?.exitCode).toBe(3);
    await sandbox.files.write('/work/a.txt', 'hello');
    expect(await sandbox.files.read('/work/a.txt')).toBe('hello');
    await sandbox.kill();
  });
});

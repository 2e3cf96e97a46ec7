import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import {
  ApiClient,
  Approvals,
  Audit,
  CommandExitError,
  CommandTimeoutError,
  Gateway,
  Policies,
  Pools,
  Sandbox,
  Secrets,
  Templates,
  Tenants,
  TimeoutError,
  Tokens,
} from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../../daemon/src/testing/fast-daemon.js';

let daemon: TestDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon();
  sbx = await Sandbox.create({ ...daemon.conn, metadata: { suite: 'sdk-usability' } });
});

afterAll(async () => {
  await daemon?.stop();
});

/** Every way a program commonly prints or stores an object. */
function renderings(value: unknown): string[] {
  return [inspect(value), inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true, getters: true }), JSON.stringify(value) ?? '', String(value)];
}

/** Runs fn with only PADDOCK_STATE_DIR in the environment to find the daemon by. */
async function withOnlyStateDir<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const saved = { url: process.env.PADDOCK_URL, token: process.env.PADDOCK_TOKEN, stateDir: process.env.PADDOCK_STATE_DIR };
  delete process.env.PADDOCK_URL;
  delete process.env.PADDOCK_TOKEN;
  process.env.PADDOCK_STATE_DIR = stateDir;
  try {
    return await fn();
  } finally {
    for (const [name, value] of [
      ['PADDOCK_URL', saved.url],
      ['PADDOCK_TOKEN', saved.token],
      ['PADDOCK_STATE_DIR', saved.stateDir],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

describe('the token stays out of what an SDK object prints', () => {
  // E3: a log line, an error report or a cached JSON of an SDK object carries the bearer token away.
  it('E3: console.log, util.inspect, JSON.stringify and String of every SDK object never show the token', async () => {
    const handle = await sbx.commands.start(['sleep', '30']);
    const pty = await sbx.pty.create({ cols: 80, rows: 24, onData: () => {}, cmd: ['sleep', '30'] });
    try {
      const objects: Record<string, unknown> = {
        client: new ApiClient(daemon.conn),
        sandbox: sbx,
        commands: sbx.commands,
        files: sbx.files,
        pty: sbx.pty,
        network: sbx.network,
        handle,
        ptyHandle: pty,
        Templates,
        Audit,
        Approvals,
        Gateway,
        Policies,
        Pools,
        Secrets,
        Tenants,
        Tokens,
      };
      for (const [name, value] of Object.entries(objects)) {
        for (const text of renderings(value)) expect(text, name).not.toContain(daemon.token);
      }
      // What they do show is still useful.
      expect(inspect(sbx)).toContain(sbx.id);
      expect(JSON.parse(JSON.stringify(sbx))).toMatchObject({ id: sbx.id, state: 'running' });
      expect(inspect(new ApiClient(daemon.conn))).toContain(daemon.url);
    } finally {
      pty.kill();
      await handle.kill();
    }
  });

  it('E4: a client found through the local state folder does not show the token it read either', async () => {
    const client = await withOnlyStateDir(daemon.stateDir, async () => new ApiClient());
    for (const text of renderings(client)) expect(text).not.toContain(daemon.token);
  });
});

describe('the local daemon is found as the CLI finds it', () => {
  // U1: with no url or token given and none in the environment, the SDK used to go to the default port without a token.
  it('U1: connects with only PADDOCK_STATE_DIR pointing at the daemon’s state folder', async () => {
    const listed = await withOnlyStateDir(daemon.stateDir, () => Sandbox.list());
    expect(listed.map((s) => s.id)).toContain(sbx.id);
    const found = await withOnlyStateDir(daemon.stateDir, () => Sandbox.connect(sbx.id));
    expect((await found.commands.run('echo found')).stdout).toBe('found\n');
  });

  it('E5: the local token is not sent to a daemon named elsewhere', async () => {
    const seen: Array<string | undefined> = [];
    const elsewhere = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"sandboxes":[]}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
      expect(await withOnlyStateDir(daemon.stateDir, () => Sandbox.list({ url }))).toEqual([]);
      expect(seen).toEqual([undefined]);
    } finally {
      elsewhere.close();
    }
  });
});

describe('follow streams end on their own signal', () => {
  // U2: stopping a follow with its signal used to throw `Error: aborted` out of the for-await.
  it('U2: Audit.follow, Approvals.follow and Gateway.followTools end quietly when their signal aborts', async () => {
    const follows = {
      audit: (signal: AbortSignal) => Audit.follow({ ...daemon.conn, since: '1h', signal }),
      approvals: (signal: AbortSignal) => Approvals.follow({ ...daemon.conn, state: 'all', signal }),
      gatewayTools: (signal: AbortSignal) => Gateway.followTools({ ...daemon.conn, signal }),
    };
    for (const [name, follow] of Object.entries(follows)) {
      // Aborted while the stream is open…
      const open = new AbortController();
      let seen = 0;
      setTimeout(() => open.abort(), 300);
      await expect(
        (async () => {
          for await (const _ of follow(open.signal)) seen++;
        })(),
        name,
      ).resolves.toBeUndefined();
      // …and before it was.
      const early = new AbortController();
      early.abort();
      const items: unknown[] = [];
      for await (const item of follow(early.signal)) items.push(item);
      expect(items, name).toEqual([]);
      if (name === 'audit') expect(seen).toBeGreaterThan(0);
    }
  });

  it('U2: a follow that runs out of its own timeoutMs still says so', async () => {
    const err = await (async () => {
      for await (const _ of Audit.follow({ ...daemon.conn, timeoutMs: 300 })) {
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/timed out after 300ms$/);
  });
});

describe('command timeouts', () => {
  // U3: a command killed at its timeout came back as CommandExitError 137, like any failure.
  it('U3: run() of a command past its timeoutMs throws CommandTimeoutError with its output so far', async () => {
    for (const streaming of [false, true]) {
      const err = await sbx.commands
        .run(['sh', '-c', 'echo started; echo warming >&2; sleep 30'], { timeoutMs: 500, ...(streaming ? { onStdout: () => {} } : {}) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandTimeoutError);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).not.toBeInstanceOf(CommandExitError);
      expect(err).toMatchObject({ code: 'command_timeout', status: 504, stdout: 'started\n', stderr: 'warming\n', exitCode: 137 });
      expect((err as Error).message).toBe('command timed out after 500ms and was killed');
    }
    const handle = await sbx.commands.start(['sleep', '30'], { timeoutMs: 300 });
    await expect(handle.wait()).rejects.toMatchObject({ code: 'command_timeout' });
  });

  // U4: waiting for a blocked background command hung until the sandbox died.
  it('U4: wait({ timeoutMs }) on a command still running ends with a TimeoutError and leaves it running', async () => {
    const handle = await sbx.commands.start(['sleep', '60']);
    try {
      const err = await handle.wait({ timeoutMs: 1000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toMatchObject({ code: 'wait_timeout', status: 504, details: { pid: handle.pid } });
      expect((err as Error).message).toBe(`process ${handle.pid} is still running after 1s: the wait timed out, the command goes on`);
      const still = (await sbx.commands.list()).find((p) => p.pid === handle.pid);
      expect(still?.state).toBe('running');
    } finally {
      await handle.kill();
    }
    // A command that ends in time is waited for as before.
    const quick = await sbx.commands.start(['sh', '-c', 'sleep 0.2; exit 4']);
    await expect(quick.wait({ timeoutMs: 30_000 })).rejects.toMatchObject({ code: 'command_exit', exitCode: 4 });
  });
});

import { Agent, request } from 'node:http';
import type { TokenCreated } from '@paddock/core';
import { Sandbox } from '@paddock/sdk';
import { Sandbox as E2bSandbox } from 'e2b';
import type { BenchContext } from './benchmarks.js';
import { rotated } from './stats.js';

const now = () => performance.now();

/**
 * The official E2B JS SDK against the daemon's E2B API, beside Paddock's own
 * SDK, on the same key: Sandbox.create() to the first output of
 * commands.run, and commands.run('true') on a running sandbox. Rounds
 * interleave the two, so both see the same machine.
 */
export async function benchE2b(ctx: BenchContext): Promise<void> {
  const { daemon, samples, config } = ctx;
  const url = daemon.endpoint.url;
  // One key for both clients: the same principal, role and policies decide each call.
  const key = await daemon.api.call<TokenCreated>('POST', '/v1/tokens', { role: 'operator', name: 'bench e2b', e2b: true });
  const e2b = { apiKey: key.token, apiUrl: `${url}/e2b`, sandboxUrl: url, debug: false };
  const paddock = { url, token: key.token };
  const out = (what: string, stdout: string) => {
    if (stdout !== 'ready\n') throw new Error(`${what} printed ${JSON.stringify(stdout)} instead of "ready\\n"`);
  };

  const firstOutput = [
    {
      name: 'e2b',
      run: async () => {
        const t = now();
        const sbx = await E2bSandbox.create('base', e2b);
        const created = now() - t;
        const result = await sbx.commands.run('echo ready');
        const ms = now() - t;
        out('e2b', result.stdout);
        await sbx.kill();
        return { ms, created };
      },
    },
    {
      name: 'paddock',
      run: async () => {
        const t = now();
        const sbx = await Sandbox.create({ ...paddock, template: 'base' });
        const created = now() - t;
        const result = await sbx.commands.run('echo ready');
        const ms = now() - t;
        out('paddock', result.stdout);
        await sbx.kill();
        return { ms, created };
      },
    },
  ];
  // A cold create spreads by several ms either way: with BENCH_ITERATIONS samples a way, the ratio of the two p50s
  // swung from 1.02× to 1.24× between runs of the same code. Three times as many make it a reading, not a draw.
  const firstOutputRounds = 3 * config.createIterations;
  for (let round = 0; round < config.warmup + firstOutputRounds; round++) {
    for (const way of rotated(firstOutput, round)) {
      ctx.signal.throwIfAborted();
      const { ms, created } = await way.run();
      if (round < config.warmup) continue;
      samples.add(`e2b.first.${way.name}`, ms);
      // The create alone (the control plane's part), apart from the first command (the in-sandbox protocol's).
      samples.add(`e2b.create.${way.name}`, created);
    }
  }

  const e2bSbx = await E2bSandbox.create('base', { ...e2b, timeoutMs: 30 * 60_000 });
  const paddockSbx = await Sandbox.create({ ...paddock, template: 'base', timeoutMs: 30 * 60_000 });
  const bareAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bare = () => bareProcessStart(url, e2bSbx.sandboxId, key.token, bareAgent);
  try {
    const runs = [
      {
        name: 'e2b',
        run: async () => {
          const t = now();
          await e2bSbx.commands.run('true');
          return now() - t;
        },
      },
      {
        name: 'paddock',
        run: async () => {
          const t = now();
          await paddockSbx.commands.run('true');
          return now() - t;
        },
      },
      // What the E2B SDK asks envd to run for commands.run('true'): a login bash, as user `user` in its home. Its own cost, apart from the protocol's.
      {
        name: 'paddockLoginBash',
        run: async () => {
          const t = now();
          await paddockSbx.commands.run(['/bin/bash', '-l', '-c', 'true'], { user: 'user', cwd: '/home/user' });
          return now() - t;
        },
      },
      // The same envd call the E2B SDK makes, sent by a bare HTTP client: the daemon's protocol cost, apart from the SDK's own.
      {
        name: 'e2bBare',
        run: async () => {
          const t = now();
          await bare();
          return now() - t;
        },
      },
    ];
    const warmup = config.warmup * 5;
    for (let round = 0; round < warmup + config.execIterations; round++) {
      for (const way of rotated(runs, round)) {
        ctx.signal.throwIfAborted();
        const ms = await way.run();
        if (round >= warmup) samples.add(`e2b.run.${way.name}`, ms);
      }
      const done = round + 1 - warmup;
      if (done > 0 && (done % 50 === 0 || done === config.execIterations)) ctx.progress(`  ${done}/${config.execIterations} rounds`);
    }
  } finally {
    bareAgent.destroy();
    await e2bSbx.kill().catch(() => undefined);
    await paddockSbx.kill().catch(() => undefined);
    await daemon.api.call('DELETE', `/v1/tokens/${key.id}`);
  }
}

/**
 * envd's process.Start as the E2B JS SDK sends it for commands.run('true')
 * (Connect, JSON, `/bin/bash -l -c true` as user `user`), from node:http with
 * nothing around it; resolves once the stream ended with exit status 0.
 */
function bareProcessStart(url: string, sandboxId: string, token: string, agent: Agent): Promise<void> {
  const message = Buffer.from(JSON.stringify({ process: { cmd: '/bin/bash', args: ['-l', '-c', 'true'], envs: {} }, stdin: false }));
  const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
  envelope.writeUInt32BE(message.length, 1);
  const { hostname, port } = new URL(url);
  const headers = {
    'content-type': 'application/connect+json',
    'connect-protocol-version': '1',
    'connect-timeout-ms': '60000',
    'keepalive-ping-interval': '50',
    'e2b-sandbox-id': sandboxId,
    'e2b-sandbox-port': '49983',
    'x-access-token': token,
    authorization: `Basic ${Buffer.from('user:').toString('base64')}`,
    'content-length': envelope.length,
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: '/process.Process/Start', method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode === 200 && text.includes('"exit status 0"')) resolve();
        else reject(new Error(`process.Start answered ${res.statusCode}: ${text.slice(0, 300)}`));
      });
    });
    req.on('error', reject);
    req.end(envelope);
  });
}

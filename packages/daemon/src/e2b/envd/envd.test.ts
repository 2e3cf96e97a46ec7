import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Sandbox as PaddockSandbox } from '@paddock/sdk';
import { CommandExitError, Sandbox as E2bSandbox, FileNotFoundError, NotFoundError, SandboxError } from 'e2b';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';
import { envdVersion } from '../envd-version.js';
import { StatRequestSchema, StatResponseSchema } from './gen/filesystem/filesystem_pb.js';

// The official `e2b` SDK against real sandboxes, through the daemon's envd:
// Sandbox.create through the control plane (/e2b, an e2b_ key), then envd in
// the one-URL form (E2B_SANDBOX_URL), with the access token create handed out.
let daemon: TestDaemon;
let apiKey: string;
let sandboxId: string;
let token: string;
let sbx: E2bSandbox;

const e2bOpts = () => ({ apiKey, apiUrl: `${daemon.url}/e2b`, sandboxUrl: daemon.url });

/** An e2b Sandbox object for any sandbox id and token, as Sandbox.connect() makes it: how a client forges one. */
function e2bSandbox(id: string, accessToken: string): E2bSandbox {
  const Ctor = E2bSandbox as unknown as new (o: Record<string, unknown>) => E2bSandbox;
  return new Ctor({ sandboxId: id, envdAccessToken: accessToken, envdVersion, ...e2bOpts() });
}

/** A GET by host name, as a client that resolves *.sandbox.localhost to the daemon sends it. */
function get2(host: string): Promise<{ status: number; body: string }> {
  const url = new URL(daemon.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/index.html', headers: { host, authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A JSON POST with headers fetch() would not send as given (Host). */
function post(path: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  const url = new URL(daemon.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  daemon = await startTestDaemon();
  // An agent's key: the default policies let agents write only under /work, /tmp and /home/user.
  const made = await daemon.api('/v1/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'agent', e2b: true }),
  });
  apiKey = ((await made.json()) as { token: string }).token;
  writeFileSync(
    join(daemon.stateDir, 'policies', '20-envd-test.cedar'),
    '@id("envd-test-ask")\n@ask("this command needs a person")\nforbid (principal, action == Paddock::Action::"sandbox.exec", resource) when { context has command && context.command like "*approve-me*" };\n',
  );
  for (let tries = 0; !JSON.stringify(await (await daemon.api('/v1/policies')).json()).includes('envd-test-ask'); tries++) {
    if (tries > 100) throw new Error('the test policy was not loaded');
    await new Promise((r) => setTimeout(r, 100));
  }
  sbx = await E2bSandbox.create('base', e2bOpts());
  sandboxId = sbx.sandboxId;
  token = (sbx as unknown as { envdAccessToken: string }).envdAccessToken;
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

describe('commands through the e2b SDK', () => {
  it('runs a command as user in its home, with env and cwd, and streams its output as it comes', async () => {
    const seen: string[] = [];
    const r = await sbx.commands.run('echo "$GREETING $(whoami) $(pwd)"; echo err >&2', { envs: { GREETING: 'hi' }, onStdout: (d) => void seen.push(d) });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'hi user /home/user\n', stderr: 'err\n' });
    expect(seen.join('')).toBe('hi user /home/user\n');
    expect((await sbx.commands.run('pwd', { cwd: '/tmp', user: 'root' })).stdout).toBe('/tmp\n');
    expect((await sbx.commands.run('whoami', { user: 'root' })).stdout).toBe('root\n');
  });

  it('throws CommandExitError with the exit code, stdout and stderr', async () => {
    const err = await sbx.commands.run('echo out; echo bad >&2; exit 3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandExitError);
    expect(err).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'bad\n' });
  });

  it('runs in the background, lists, re-attaches from a second client, takes stdin and is killed', async () => {
    const h = await sbx.commands.run('read line; echo "got $line"; sleep 600', { background: true, stdin: true });
    expect((await sbx.commands.list()).map((p) => p.pid)).toContain(h.pid);
    const second = await E2bSandbox.connect(sandboxId, e2bOpts());
    const lines: string[] = [];
    const attached = await second.commands.connect(h.pid, { onStdout: (d) => void lines.push(d) });
    await sbx.commands.sendStdin(h.pid, 'hello\n');
    await expect.poll(() => lines.join(''), { timeout: 10_000 }).toBe('got hello\n');
    expect(await sbx.commands.kill(h.pid)).toBe(true);
    const end = await attached.wait().catch((e: unknown) => e);
    expect(end).toBeInstanceOf(CommandExitError);
    expect(await sbx.commands.kill(h.pid)).toBe(false);
  });

  it('closes stdin so a reader ends', async () => {
    const h = await sbx.commands.run('wc -c', { background: true, stdin: true });
    await h.sendStdin('12345');
    await h.closeStdin();
    expect((await h.wait()).stdout.trim()).toBe('5');
  });

  it('opens a PTY, types into it and resizes it', async () => {
    const out: Uint8Array[] = [];
    const pty = await sbx.pty.create({ cols: 80, rows: 24, onData: (d) => void out.push(d) });
    await sbx.pty.resize(pty.pid, { cols: 100, rows: 30 });
    await sbx.pty.sendInput(pty.pid, new TextEncoder().encode('stty size; exit\n'));
    await pty.wait().catch(() => undefined);
    expect(Buffer.concat(out).toString()).toContain('30 100');
  });
});

describe('files through the e2b SDK', () => {
  it('writes and reads text, bytes and streams; lists with depth; stats, renames and removes', async () => {
    const info = await sbx.files.write('notes/a.txt', 'hello');
    expect(info).toMatchObject({ name: 'a.txt', path: '/home/user/notes/a.txt' });
    expect(await sbx.files.read('/home/user/notes/a.txt')).toBe('hello');
    await sbx.files.write('notes/b.bin', new Uint8Array([0, 1, 2, 255]).buffer);
    expect(await sbx.files.read('notes/b.bin', { format: 'bytes' })).toEqual(new Uint8Array([0, 1, 2, 255]));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('streamed '));
        c.enqueue(new TextEncoder().encode('in'));
        c.close();
      },
    });
    await sbx.files.write('notes/deep/c.txt', stream);
    const back = await sbx.files.read('notes/deep/c.txt', { format: 'stream' });
    expect(await new Response(back).text()).toBe('streamed in');
    expect((await sbx.files.list('notes')).map((e) => e.name).sort()).toEqual(['a.txt', 'b.bin', 'deep']);
    expect((await sbx.files.list('notes', { depth: 2 })).map((e) => e.path).sort()).toContain('/home/user/notes/deep/c.txt');
    expect(await sbx.files.makeDir('notes/deep')).toBe(false);
    expect(await sbx.files.makeDir('notes/new')).toBe(true);
    expect((await sbx.files.getInfo('notes/a.txt')).type).toBe('file');
    await sbx.files.rename('notes/a.txt', 'notes/z.txt');
    expect(await sbx.files.exists('notes/a.txt')).toBe(false);
    await sbx.files.remove('notes');
    await expect(sbx.files.read('notes/z.txt')).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('writes several files at once and a 10 MB file', async () => {
    await sbx.files.write([
      { path: 'many/one.txt', data: '1' },
      { path: 'many/two.txt', data: '2' },
    ]);
    expect(await sbx.files.read('many/two.txt')).toBe('2');
    const big = Buffer.alloc(10 * 1024 * 1024, 7);
    await sbx.files.write('big.bin', big.buffer.slice(big.byteOffset, big.byteOffset + big.length));
    const read = await sbx.files.read('big.bin', { format: 'bytes' });
    expect(read.length).toBe(big.length);
    expect(createHash('sha256').update(read).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    await sbx.files.write('gz.txt', 'zipped on the way', { gzip: true });
    expect(await sbx.files.read('gz.txt')).toBe('zipped on the way');
  });

  it('watches a directory for what a command does in it', async () => {
    await sbx.files.makeDir('watched');
    const events: { name: string; type: string }[] = [];
    const handle = await sbx.files.watchDir('watched', (e) => void events.push({ name: e.name, type: e.type }));
    await sbx.commands.run('echo x > ~/watched/new.txt');
    await expect.poll(() => events, { timeout: 10_000 }).toContainEqual({ name: 'new.txt', type: 'create' });
    await sbx.commands.run('rm ~/watched/new.txt');
    await expect.poll(() => events, { timeout: 10_000 }).toContainEqual({ name: 'new.txt', type: 'remove' });
    await handle.stop();
  });

  it('downloads and uploads through signed URLs, which work for their own path alone', async () => {
    await sbx.files.write('signed.txt', 'for the link');
    const download = await sbx.downloadUrl('signed.txt', { useSignatureExpiration: 60 });
    expect(new URL(download).searchParams.get('signature')).toMatch(/^v1_/);
    const got = await fetch(download);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('for the link');
    const upload = await sbx.uploadUrl('uploaded.txt');
    const form = new FormData();
    form.append('file', new Blob(['through the link']), 'uploaded.txt');
    expect((await fetch(upload, { method: 'POST', body: form })).status).toBe(200);
    expect(await sbx.files.read('uploaded.txt')).toBe('through the link');
  });
});

describe('routing and errors', () => {
  it('answers on the <port>-<id>.<domain> host form too', async () => {
    // fetch() keeps the Host header to itself: a plain request names the host as a DNS name would.
    const res = await post(`/filesystem.Filesystem/Stat`, { host: `49983-${sandboxId}.sandbox.localhost`, 'x-access-token': token }, { path: '/etc/hostname' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ entry: { name: 'hostname', path: '/etc/hostname', type: 'FILE_TYPE_FILE' } });
  });

  it('serves the binary protobuf encoding as well as JSON, and a polling watcher', async () => {
    const headers = { 'e2b-sandbox-id': sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': token };
    const res = await fetch(`${daemon.url}/filesystem.Filesystem/Stat`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/proto' },
      body: toBinary(StatRequestSchema, create(StatRequestSchema, { path: '/etc/hostname' })),
    });
    expect(res.status).toBe(200);
    expect(fromBinary(StatResponseSchema, new Uint8Array(await res.arrayBuffer())).entry?.path).toBe('/etc/hostname');
    const rpc = async (method: string, body: unknown) => {
      const r = await fetch(`${daemon.url}/filesystem.Filesystem/${method}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(r.status).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    await sbx.files.makeDir('polled');
    const { watcherId } = await rpc('CreateWatcher', { path: 'polled' });
    await sbx.files.write('polled/one.txt', '1');
    // Empty lists are left out of Connect's JSON; the events gather over the reads.
    const seen: unknown[] = [];
    await expect
      .poll(
        async () => {
          seen.push(...(((await rpc('GetWatcherEvents', { watcherId })).events as unknown[] | undefined) ?? []));
          return seen;
        },
        { timeout: 10_000 },
      )
      .toContainEqual({ name: 'one.txt', type: 'EVENT_TYPE_CREATE' });
    await rpc('RemoveWatcher', { watcherId });
  });

  it('reaches a server in the sandbox by its port through the sandbox headers', async () => {
    await sbx.commands.run('mkdir -p /tmp/site && echo served > /tmp/site/index.html && cd /tmp/site && python3 -m http.server 8000', { background: true });
    const get = () =>
      fetch(`${daemon.url}/index.html`, { headers: { 'e2b-sandbox-id': sandboxId, 'e2b-sandbox-port': '8000', authorization: `Bearer ${token}` } });
    await expect.poll(async () => (await get()).status, { timeout: 15_000 }).toBe(200);
    expect(await (await get()).text()).toBe('served\n');
    // getHost() names the ingress host, the sandbox domain the control plane reports.
    const host = sbx.getHost(8000);
    expect(host).toBe(`8000-${sandboxId}.sandbox.localhost:${new URL(daemon.url).port}`);
    const viaHost = await get2(host);
    expect(viaHost).toEqual({ status: 200, body: 'served\n' });
  });

  it("answers a command's stream with the request id its sandbox.exec audit record carries, as the native route does", async () => {
    const message = Buffer.from(JSON.stringify({ process: { cmd: '/bin/bash', args: ['-l', '-c', 'echo audited-$((6*7))'], envs: {} } }));
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
    envelope.writeUInt32BE(message.length, 1);
    const url = new URL(daemon.url);
    const headers = { 'content-type': 'application/connect+json', 'e2b-sandbox-id': sandboxId, 'x-access-token': token, authorization: 'Basic dXNlcjo=' };
    const answer = await new Promise<{ requestId: string | undefined; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: '/process.Process/Start', method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ requestId: res.headers['x-request-id'] as string | undefined, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(envelope);
    });
    expect(answer.body).toContain(Buffer.from('audited-42\n').toString('base64'));
    expect(answer.body).toContain('"exit status 0"');
    expect(answer.requestId).toMatch(/\S/);
    const { records } = (await (await daemon.api('/v1/audit?action=sandbox.exec&limit=1000')).json()) as { records: Record<string, unknown>[] };
    expect(records.find((r) => r.requestId === answer.requestId)).toMatchObject({
      action: 'sandbox.exec',
      resource: `sandbox:${sandboxId}`,
      decision: 'allow',
      outcome: 'ok',
      details: { cmd: ['/bin/bash', '-l', '-c', 'echo audited-$((6*7))'], user: 'user' },
    });
  });

  it('N10: a Connect stream call answers a bad token, or a message declared past 4 MiB, before the body it announces arrives', async () => {
    const url = new URL(daemon.url);
    // Sends the headers and `first` (if any), never the rest of the body; resolves with the answer's end-of-stream message.
    const answerWithoutBody = (accessToken: string, first: Buffer | undefined) =>
      new Promise<{ status: number; end: string }>((resolve, reject) => {
        const headers = {
          'content-type': 'application/connect+json',
          'e2b-sandbox-id': sandboxId,
          'x-access-token': accessToken,
          'content-length': 6 * 1024 * 1024,
        };
        const req = request({ host: url.hostname, port: url.port, path: '/process.Process/Start', method: 'POST', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, end: body.subarray(5).toString() });
            req.destroy();
          });
        });
        req.on('error', (err: NodeJS.ErrnoException) => err.code !== 'ECONNRESET' && reject(err));
        if (first) req.write(first);
        else req.flushHeaders();
      });
    const refused = await answerWithoutBody('pdk_not-a-token', undefined);
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.end).error.code).toBe('unauthenticated');
    const header = Buffer.alloc(5);
    header.writeUInt32BE(5 * 1024 * 1024, 1);
    const tooLarge = await answerWithoutBody(token, header);
    expect(JSON.parse(tooLarge.end).error).toEqual({
      code: 'resource_exhausted',
      message: 'message size 5242880 is larger than configured readMaxBytes 4194304',
    });
  });

  it('audits a command for a sandbox that does not exist as the native route does: a deny, sandbox_not_found', async () => {
    const missing = 'sb-0000000000e2';
    await expect(e2bSandbox(missing, apiKey).commands.run('true')).rejects.toBeInstanceOf(NotFoundError);
    const { records } = (await (await daemon.api(`/v1/audit?action=sandbox.exec&sandbox=${missing}`)).json()) as { records: Record<string, unknown>[] };
    expect(records).toEqual([expect.objectContaining({ resource: `sandbox:${missing}`, decision: 'deny', outcome: 'sandbox_not_found' })]);
  });

  it('shows an approval a policy asks for as an error naming the approval', async () => {
    const err = await sbx.commands.run('echo approve-me').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxError);
    expect(String(err)).toMatch(/this command needs a person — approval \S+ is pending/);
  });

  it('refuses an unknown sandbox, a bad token and what the policy denies; an ended sandbox is not running', async () => {
    await expect(e2bSandbox('sb-000000000000', token).commands.run('true')).rejects.toBeInstanceOf(NotFoundError);
    await expect(e2bSandbox(sandboxId, 'pdk_not-a-token').commands.run('true')).rejects.toThrow(/token/);
    expect(
      await e2bSandbox(sandboxId, 'pdk_not-a-token')
        .isRunning()
        .catch((e: unknown) => e),
    ).toBeInstanceOf(Error);
    // A sandbox that ended is not running, though its access token ended with it.
    const gone = await E2bSandbox.create('base', e2bOpts());
    expect(await gone.isRunning()).toBe(true);
    await gone.kill();
    expect(await gone.isRunning()).toBe(false);
    // Agents write only under /work, /tmp and /home/user (a default policy).
    const denied = await sbx.files.write('/etc/evil', 'x').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(SandboxError);
    expect(String(denied)).toMatch(/agents write only under/);
  });
});

describe('N. E2B-compatible API', () => {
  it('N1: a forged E2b-Sandbox-Id names a sandbox the token may not reach: not found, nothing runs there', async () => {
    const other = await PaddockSandbox.create({ ...daemon.conn, template: 'base' });
    const forged = e2bSandbox(other.id, token);
    await expect(forged.commands.run('touch /tmp/forged')).rejects.toBeInstanceOf(NotFoundError);
    await expect(forged.files.read('/etc/hostname')).rejects.toBeInstanceOf(NotFoundError);
    const res = await post('/process.Process/List', { 'e2b-sandbox-id': other.id, 'e2b-sandbox-port': '49983', 'x-access-token': token }, {});
    expect(res.status).toBe(404);
    expect((await other.commands.run(['ls', '/tmp'])).stdout).not.toContain('forged');
    await other.kill();
  });

  it('N2: a signed URL replayed for another path, operation or sandbox, or past its expiry, is refused', async () => {
    await sbx.files.write('secret-a.txt', 'a');
    await sbx.files.write('secret-b.txt', 'b');
    const url = new URL(await sbx.downloadUrl('secret-a.txt', { useSignatureExpiration: 60 }));
    expect((await fetch(url)).status).toBe(200);
    const otherPath = new URL(url);
    otherPath.searchParams.set('path', 'secret-b.txt');
    expect((await fetch(otherPath)).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: 'overwrite' })).status).toBe(401);
    const otherSandbox = await fetch(url, { headers: { 'e2b-sandbox-id': 'sb-000000000000', 'e2b-sandbox-port': '49983' } });
    expect(otherSandbox.status).toBe(401);
    const expired = new URL(await sbx.downloadUrl('secret-a.txt', { useSignatureExpiration: -10 }));
    expect((await fetch(expired)).status).toBe(401);
    const asRoot = new URL(url);
    asRoot.searchParams.set('username', 'root');
    expect((await fetch(asRoot)).status).toBe(401);
  });

  it('N3: hostile file names in an upload stay in the sandbox and pass the policy as the path they resolve to', async () => {
    const upload = async (name: string) => {
      const form = new FormData();
      form.append('file', new Blob(['x']), name);
      return fetch(`${daemon.url}/files`, {
        method: 'POST',
        body: form,
        headers: { 'e2b-sandbox-id': sandboxId, 'e2b-sandbox-port': '49983', 'x-access-token': token },
      });
    };
    // Up and out of the home: /etc/cron.d, which the agents' default policy refuses.
    const escaping = await upload('../../etc/cron.d/evil');
    expect(escaping.status).toBe(403);
    expect(await escaping.json()).toMatchObject({ code: 403, error: { code: 'policy_denied' } });
    expect(await sbx.files.exists('/etc/cron.d/evil', { user: 'root' })).toBe(false);
    const inHome = await upload('../user/./sub/../ok.txt');
    expect(inHome.status).toBe(200);
    expect(await inHome.json()).toEqual([{ name: 'ok.txt', type: 'file', path: '/home/user/ok.txt' }]);
    expect((await upload('nul\u0000byte')).status).toBe(400);
  });
});

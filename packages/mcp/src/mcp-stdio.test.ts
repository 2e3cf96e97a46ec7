import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { cliPath } from '../../daemon/src/testing/run-cli.js';

// A test here starts the CLI, a process, many times: on a loaded machine that
// takes longer than the fast tier's in-process tests are given.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// `paddock mcp` end to end: the bundled CLI as a desktop client runs it, driven
// by the MCP SDK's own client over stdio, against a daemon of the fast tier.
let daemon: FastDaemon;
let mcp: Connected;

interface Connected {
  client: Client;
  /** What the server wrote to stderr. */
  stderr: () => string;
  /** Transport errors on the client's side: a line on stdout that was not an MCP frame shows up here. */
  transportErrors: Error[];
}

async function connect(env: NodeJS.ProcessEnv): Promise<Connected> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [cliPath(), 'mcp'], env: stringsOnly(env), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const transportErrors: Error[] = [];
  const client = new Client({ name: 'paddock-test', version: '0.0.0' });
  await client.connect(transport);
  client.onerror = (err) => transportErrors.push(err);
  // Listing the tools also arms the client's checks of each result against the tool's output schema.
  await client.listTools();
  return { client, stderr: () => stderr, transportErrors };
}

function stringsOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

async function call(name: string, args: Record<string, unknown>, client = mcp.client): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** The structured result of a call that must succeed; its text content is the same JSON. */
async function ok<T = Record<string, unknown>>(name: string, args: Record<string, unknown>): Promise<T> {
  const r = await call(name, args);
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(JSON.parse(textOf(r))).toEqual(r.structuredContent);
  return r.structuredContent as T;
}

/** The one line of a call that must fail as a tool error. */
async function failure(name: string, args: Record<string, unknown>, client = mcp.client): Promise<string> {
  const r = await call(name, args, client);
  expect(r.isError).toBe(true);
  expect(r.structuredContent).toBeUndefined();
  return textOf(r);
}

function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  truncated: boolean;
  files: Array<{ path: string; size?: number; encoding?: string; content?: string; error?: string }>;
}

beforeAll(async () => {
  daemon = await startFastDaemon();
  mcp = await connect(daemon.env);
});

afterAll(async () => {
  await mcp?.client.close();
  await daemon?.stop();
});

describe('paddock mcp over stdio', () => {
  it('lists the tools with schemas built from the core schemas, and the sandbox file resource template', async () => {
    const { tools } = await mcp.client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'desktop_click',
        'desktop_drag',
        'desktop_key',
        'desktop_move',
        'desktop_screenshot',
        'desktop_scroll',
        'desktop_type',
        'list_files',
        'network_allow',
        'read_file',
        'run_code',
        'run_command',
        'sandbox_create',
        'sandbox_kill',
        'sandbox_list',
        'write_file',
      ].sort(),
    );
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.outputSchema?.type, tool.name).toBe('object');
    }
    const props = (name: string) => byName[name]?.inputSchema.properties as Record<string, Record<string, unknown>>;

    const create = props('sandbox_create');
    expect(Object.keys(create)).toEqual(expect.arrayContaining(['template', 'tier', 'timeoutMs', 'limits', 'network', 'secrets']));
    expect(create.tier?.enum).toEqual(['container', 'gvisor', 'auto']);
    expect(Object.keys(create.limits?.properties as object)).toEqual(['memoryMiB', 'cpus', 'pids', 'diskMiB']);
    expect(create.network).toMatchObject({ properties: { allow: { type: 'array', items: { type: 'string', maxLength: 260 } } } });

    const run = props('run_command');
    expect(Object.keys(run)).toEqual(expect.arrayContaining(['sandboxId', 'cmd', 'cwd', 'env', 'user', 'timeoutMs', 'stdin']));
    expect(byName.run_command?.inputSchema.required).toEqual(expect.arrayContaining(['sandboxId', 'cmd']));
    expect(run.sandboxId?.pattern).toBe('^sb-[a-z0-9]{12}$');
    expect(run.cmd?.anyOf).toHaveLength(2);
    expect(run.env?.propertyNames).toMatchObject({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });

    const code = props('run_code');
    expect(code.language?.enum).toEqual(['python', 'javascript', 'bash']);
    expect(code.returnFiles?.type).toBe('array');
    expect(byName.run_code?.inputSchema.required).toEqual(expect.arrayContaining(['language', 'code']));
    expect(byName.run_code?.inputSchema.required).not.toContain('sandboxId');

    expect(props('network_allow').hosts).toMatchObject({ type: 'array', minItems: 1 });
    expect(Object.keys(props('write_file'))).toEqual(expect.arrayContaining(['sandboxId', 'path', 'content', 'encoding', 'mode']));
    expect(byName.sandbox_kill?.annotations?.destructiveHint).toBe(true);
    expect(byName.read_file?.annotations?.readOnlyHint).toBe(true);

    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['paddock://sandboxes/{id}/files/{+path}']);
    expect(mcp.client.getInstructions()).toContain('run_code');
  });

  it('run_code python in a fresh sandbox: stdout, exit code and the files it wrote (text, binary, missing); the sandbox is gone after', async () => {
    const code = [
      'import os',
      "open('out.txt', 'w').write('hello from python\\n')",
      "os.makedirs('/tmp/deep', exist_ok=True)",
      "open('/tmp/deep/blob.bin', 'wb').write(bytes(range(256)))",
      'print(6 * 7)',
    ].join('\n');
    const r = await ok<RunResult>('run_code', { language: 'python', code, returnFiles: ['out.txt', '/tmp/deep/blob.bin', 'missing.txt'] });
    expect(r).toMatchObject({ exitCode: 0, stdout: '42\n', stderr: '', truncated: false });
    expect(r.files[0]).toEqual({ path: 'out.txt', size: 18, encoding: 'utf8', content: 'hello from python\n' });
    expect(r.files[1]).toMatchObject({ path: '/tmp/deep/blob.bin', size: 256, encoding: 'base64' });
    expect(Buffer.from(r.files[1]?.content ?? '', 'base64')).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    expect(r.files[2]?.error).toMatch(/^file_not_found: /);
    expect((await ok<{ sandboxes: unknown[] }>('sandbox_list', {})).sandboxes).toEqual([]);
  });

  it('run_code bash and javascript: a non-zero exit is a result with its code, not an error', async () => {
    const bash = await ok<RunResult>('run_code', { language: 'bash', code: 'echo "to stdout"; echo "to stderr" >&2; exit 3' });
    expect(bash).toMatchObject({ exitCode: 3, stdout: 'to stdout\n', stderr: 'to stderr\n', files: [] });
    const js = await ok<RunResult>('run_code', { language: 'javascript', code: 'console.log([1, 2, 3].map((x) => x * 2).join(","))' });
    expect(js).toMatchObject({ exitCode: 0, stdout: '2,4,6\n' });
    const broken = await ok<RunResult>('run_code', { language: 'python', code: 'raise SystemExit("bad input")' });
    expect(broken).toMatchObject({ exitCode: 1, stderr: 'bad input\n' });
  });

  describe('in a sandbox made with sandbox_create', () => {
    let id: string;

    beforeAll(async () => {
      const info = await ok<{ id: string; state: string; limits: { memoryMiB: number }; template: string }>('sandbox_create', {
        limits: { memoryMiB: 256 },
        timeoutMs: 120_000,
      });
      expect(info).toMatchObject({ state: 'running', template: 'base', limits: { memoryMiB: 256 } });
      id = info.id;
    });

    it('sandbox_list shows it', async () => {
      const { sandboxes } = await ok<{ sandboxes: Array<{ id: string }> }>('sandbox_list', {});
      expect(sandboxes.map((s) => s.id)).toEqual([id]);
    });

    it('run_command: argv or a shell string, with cwd, env, user and stdin; a non-zero exit is not an error', async () => {
      const argv = await ok<RunResult>('run_command', {
        sandboxId: id,
        cmd: ['sh', '-c', 'echo "$PWD $GREETING $(id -un)"; cat'],
        cwd: '/tmp',
        env: { GREETING: 'hi' },
        user: 'user',
        stdin: 'from stdin',
      });
      expect(argv).toMatchObject({ exitCode: 0, stdout: '/tmp hi user\nfrom stdin' });
      const failed = await call('run_command', { sandboxId: id, cmd: 'echo out; echo err >&2; exit 7' });
      expect(failed.isError).toBeFalsy();
      expect(failed.structuredContent).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
      // A program that does not exist never ran: that is an error, not an exit code.
      expect(await failure('run_command', { sandboxId: id, cmd: ['no-such-program'] })).toMatch(/^file_not_found: exec no-such-program/);
    });

    it('run_command: long output keeps its start and end, with a note, and is marked truncated', async () => {
      const r = await ok<RunResult>('run_command', { sandboxId: id, cmd: "echo START; head -c 200000 /dev/zero | tr '\\0' a; echo; echo END" });
      expect(r.truncated).toBe(true);
      expect(r.stdout.length).toBeLessThan(33_000);
      expect(r.stdout.startsWith('START\naaa')).toBe(true);
      expect(r.stdout.endsWith('aaa\nEND\n')).toBe(true);
      expect(r.stdout).toMatch(/\[… \d+ characters cut …\]/);
    });

    it('run_command: the timeout ends the command and says so', async () => {
      const r = await ok<RunResult & { timedOut: boolean }>('run_command', { sandboxId: id, cmd: ['sleep', '30'], timeoutMs: 300 });
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).not.toBe(0);
    });

    it('write_file, list_files and read_file round trip text and binary; run_code sees the files in the same sandbox', async () => {
      const binary = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
      const written = await ok<{ path: string; size: number; type: string }>('write_file', {
        sandboxId: id,
        path: '/work/notes/a.txt',
        content: 'ünïcode ✓\n',
      });
      expect(written).toMatchObject({ path: '/work/notes/a.txt', size: Buffer.byteLength('ünïcode ✓\n'), type: 'file' });
      await ok('write_file', { sandboxId: id, path: '/work/notes/b.bin', content: binary.toString('base64'), encoding: 'base64' });
      await ok('write_file', { sandboxId: id, path: 'notes/run.sh', content: '#!/bin/sh\necho ran\n', mode: 0o755 });

      const { entries } = await ok<{ entries: Array<{ name: string; type: string; size: number; mode: number }>; truncated: boolean }>('list_files', {
        sandboxId: id,
        path: '/work/notes',
      });
      expect(entries.map((e) => e.name).sort()).toEqual(['a.txt', 'b.bin', 'run.sh']);
      expect(entries.find((e) => e.name === 'b.bin')).toMatchObject({ type: 'file', size: binary.length });
      expect((entries.find((e) => e.name === 'run.sh')?.mode ?? 0) & 0o777).toBe(0o755);
      expect((await ok<{ entries: Array<{ name: string }> }>('list_files', { sandboxId: id })).entries.map((e) => e.name)).toContain('notes');

      expect(await ok('read_file', { sandboxId: id, path: '/work/notes/a.txt' })).toEqual({
        path: '/work/notes/a.txt',
        size: Buffer.byteLength('ünïcode ✓\n'),
        encoding: 'utf8',
        content: 'ünïcode ✓\n',
        truncated: false,
      });
      const bin = await ok<{ encoding: string; content: string }>('read_file', { sandboxId: id, path: '/work/notes/b.bin' });
      expect(bin.encoding).toBe('base64');
      expect(Buffer.from(bin.content, 'base64')).toEqual(binary);
      const asked = await ok<{ encoding: string; content: string }>('read_file', { sandboxId: id, path: 'notes/a.txt', encoding: 'base64' });
      expect(Buffer.from(asked.content, 'base64').toString()).toBe('ünïcode ✓\n');

      const ran = await ok<RunResult>('run_code', { sandboxId: id, language: 'bash', code: './notes/run.sh && wc -c < notes/b.bin', cwd: '/work' });
      expect(ran.stdout).toBe('ran\n9\n');
      expect(await failure('read_file', { sandboxId: id, path: '/work/none.txt' })).toMatch(/^file_not_found: /);
      expect(await failure('write_file', { sandboxId: id, path: '/work/x.bin', content: 'not base64!', encoding: 'base64' })).toMatch(/^bad_request: /);
    });

    it('read_file returns the start of a file larger than the cap, marked truncated', async () => {
      await ok('run_command', { sandboxId: id, cmd: "head -c 3000000 /dev/zero | tr '\\0' x > /work/big.txt" });
      const r = await ok<{ size: number; content: string; truncated: boolean }>('read_file', { sandboxId: id, path: '/work/big.txt' });
      expect(r).toMatchObject({ size: 1024 * 1024, truncated: true });
      expect(r.content).toBe('x'.repeat(1024 * 1024));
    });

    it('a file resource reads through the SDK: text, blob, and a JSON-RPC error for a missing file', async () => {
      const text = await mcp.client.readResource({ uri: `paddock://sandboxes/${id}/files/work/notes/a.txt` });
      expect(text.contents).toEqual([{ uri: `paddock://sandboxes/${id}/files/work/notes/a.txt`, mimeType: 'text/plain', text: 'ünïcode ✓\n' }]);
      await ok('write_file', { sandboxId: id, path: '/work/with space.json', content: '{"a":1}' });
      const spaced = await mcp.client.readResource({ uri: `paddock://sandboxes/${id}/files/work/with%20space.json` });
      expect(spaced.contents[0]).toMatchObject({ mimeType: 'application/json', text: '{"a":1}' });
      const blob = await mcp.client.readResource({ uri: `paddock://sandboxes/${id}/files/work/notes/b.bin` });
      expect(blob.contents[0]).toMatchObject({
        mimeType: 'application/octet-stream',
        blob: Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]).toString('base64'),
      });
      await expect(mcp.client.readResource({ uri: `paddock://sandboxes/${id}/files/work/none.txt` })).rejects.toMatchObject({
        code: -32002,
        message: expect.stringContaining('file_not_found: '),
      });
      await expect(mcp.client.readResource({ uri: 'paddock://sandboxes/not-an-id/files/work/a.txt' })).rejects.toMatchObject({ code: -32602 });
      const completion = await mcp.client.complete({
        ref: { type: 'ref/resource', uri: 'paddock://sandboxes/{id}/files/{+path}' },
        argument: { name: 'id', value: 'sb-' },
      });
      expect(completion.completion.values).toContain(id);
    });

    it('network_allow returns the rules in force; a bad host rule is refused as a tool error', async () => {
      const rules = await ok<{ mode: string; allow: string[]; deny: string[] }>('network_allow', { sandboxId: id, hosts: ['PyPI.org', '*.pythonhosted.org'] });
      expect(rules).toEqual({ mode: 'proxy', allow: ['pypi.org', '*.pythonhosted.org'], deny: [], secrets: [] });
      expect(await failure('network_allow', { sandboxId: id, hosts: ['not a host!'] })).toMatch(/host rule/);
      expect(await failure('network_allow', { sandboxId: id, hosts: [] })).toMatch(/hosts/);
    });

    it('network_allow obeys the daemon’s policy: a Cedar forbid comes back as policy_denied with its reason', async () => {
      const file = `${daemon.stateDir}/policies/50-mcp-test.cedar`;
      writeFileSync(
        file,
        '@id("no-more-hosts")\n@reason("no new hosts in this test")\nforbid (principal, action == Paddock::Action::"sandbox.network.update", resource);\n',
      );
      try {
        // The daemon reloads its policies when the folder changes.
        await expect
          .poll(async () => textOf(await call('network_allow', { sandboxId: id, hosts: ['example.org'] })), { timeout: 10_000 })
          .toMatch(/^policy_denied: .*no new hosts in this test/);
      } finally {
        rmSync(file, { force: true });
      }
    });

    it('run_code with contextId keeps state between cells, and returns an image as MCP image content and the values as text', async () => {
      // The fast tier's kernels are the host's python3 (ipykernel): a 1×1 PNG through IPython's display, as a chart comes back.
      const png1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
      const first = await ok<{ contextId: string }>('run_code', { sandboxId: id, contextId: 'default', language: 'python', code: 'x = 41' });
      expect(first.contextId).toBe('default-python');
      const code = `import base64\nfrom IPython.display import Image, display\ndisplay(Image(data=base64.b64decode("${png1x1}")))\nprint("side")\n{"answer": x + 1}`;
      const r = await call('run_code', { sandboxId: id, contextId: first.contextId, language: 'python', code });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(r.content).toEqual([
        { type: 'text', text: JSON.stringify(r.structuredContent) },
        { type: 'image', data: png1x1, mimeType: 'image/png' },
      ]);
      expect(r.structuredContent).toMatchObject({
        contextId: 'default-python',
        stdout: 'side\n',
        error: null,
        results: [
          { isMainResult: false, image: 'image/png' },
          { isMainResult: true, text: "{'answer': 42}" },
        ],
      });
      // The image travels once, as image content, not inside the JSON too.
      expect(JSON.stringify(r.structuredContent)).not.toContain(png1x1);
      const js = await ok<{ results: unknown[] }>('run_code', { sandboxId: id, contextId: 'default', language: 'javascript', code: 'let n = 2; n * 21' });
      expect(js.results).toEqual([{ isMainResult: true, text: '42' }]);
      const failed = await ok<{ error: { name: string } }>('run_code', { sandboxId: id, contextId: 'default', language: 'python', code: '1/0' });
      expect(failed.error).toMatchObject({ name: 'ZeroDivisionError' });
      expect(await failure('run_code', { contextId: 'default', language: 'python', code: '1' })).toMatch(/^invalid_request: contextId needs sandboxId/);
    });

    it('sandbox_kill kills it; later calls name sandbox_not_found', async () => {
      expect(await ok('sandbox_kill', { id })).toMatchObject({ id, state: 'killed' });
      expect(await failure('sandbox_kill', { id })).toMatch(/^sandbox_not_found: /);
      expect(await failure('run_command', { sandboxId: id, cmd: ['true'] })).toMatch(/^sandbox_\w+: /);
    });
  });

  it('errors come back as tool errors naming the code, and the server keeps answering', async () => {
    const unknown = 'sb-000000000000';
    expect(await failure('run_command', { sandboxId: unknown, cmd: ['true'] })).toMatch(/^sandbox_not_found: /);
    expect(await failure('run_code', { sandboxId: unknown, language: 'python', code: 'print(1)' })).toMatch(/^sandbox_not_found: /);
    expect(await failure('read_file', { sandboxId: unknown, path: '/etc/hostname' })).toMatch(/^sandbox_not_found: /);
    expect(await failure('network_allow', { sandboxId: unknown, hosts: ['pypi.org'] })).toMatch(/^sandbox_not_found: /);

    // Bad arguments: the SDK checks them against the tool's schema before Paddock sees them.
    expect(await failure('run_command', { sandboxId: unknown, cmd: 42 })).toMatch(/invalid arguments.*run_command.*cmd is an argv array/i);
    expect(await failure('run_command', { sandboxId: unknown, cmd: [] })).toMatch(/cmd/);
    expect(await failure('run_command', { sandboxId: 'nope', cmd: ['true'] })).toMatch(/not a sandbox id/);
    expect(await failure('run_code', { language: 'cobol', code: 'x' })).toMatch(/language/);
    expect(await failure('sandbox_create', { limits: { memoryMiB: 1 } })).toMatch(/memoryMiB/);
    expect(await failure('sandbox_create', { surprise: true })).toMatch(/surprise/);
    expect(await failure('no_such_tool', {})).toMatch(/no_such_tool/);
    // Larger than the SDK's default 10 MiB stdio message: refused by the schema, and the connection stays.
    expect(await failure('write_file', { sandboxId: unknown, path: '/work/huge.txt', content: 'a'.repeat(12 * 1024 * 1024) })).toMatch(/content/);
    // The daemon's own refusal, past the schema: an unknown template.
    expect(await failure('sandbox_create', { template: 'no-such-template' })).toMatch(/^template_not_found: /);

    expect((await mcp.client.listTools()).tools).toHaveLength(16);
    expect(await ok<RunResult>('run_code', { language: 'bash', code: 'echo still here' })).toMatchObject({ stdout: 'still here\n' });
    expect(mcp.transportErrors).toEqual([]);
  });

  it('a wrong token: the server starts, says so on stderr, and every call fails with unauthorized', async () => {
    const wrong = await connect({ ...daemon.env, PADDOCK_TOKEN: 'pdk_wrong' });
    try {
      expect(await failure('sandbox_list', {}, wrong.client)).toMatch(/^unauthorized: .*PADDOCK_TOKEN/);
      expect(await failure('run_code', { language: 'python', code: 'print(1)' }, wrong.client)).toMatch(/^unauthorized: /);
      await expect.poll(wrong.stderr).toMatch(/paddock mcp: unauthorized: /);
    } finally {
      await wrong.client.close();
    }
  });

  it('stdout carries only MCP frames: a garbage line is survived, and the server exits 0 when stdin closes', async () => {
    const child = spawn(process.execPath, [cliPath(), 'mcp'], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    };
    child.stdin.write('this is not json\n');
    child.stdin.write(`${JSON.stringify(initialize)}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'run_code', arguments: { language: 'bash' } } })}\n`);
    await expect.poll(() => stdout.split('\n').filter(Boolean).length, { timeout: 20_000 }).toBe(2);
    const frames = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(frames[0]).toMatchObject({ id: 1, result: { serverInfo: { name: 'paddock' } } });
    expect(frames[1]).toMatchObject({ id: 2, result: { isError: true } });
    child.stdin.end();
    expect(await exited).toBe(0);
  });

  it('notifications/cancelled and stdin closing each end a tools/call in flight: its command is killed, and a cancelled call gets no answer', async () => {
    const child = spawn(process.execPath, [cliPath(), 'mcp'], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const frames: Array<{ id?: unknown; result?: CallToolResult }> = [];
    let pending = '';
    child.stdout.on('data', (d) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        frames.push(JSON.parse(pending.slice(0, nl)));
        pending = pending.slice(nl + 1);
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const send = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    const answer = async (id: string | number) => {
      await expect.poll(() => frames.some((f) => f.id === id), { timeout: 30_000 }).toBe(true);
      return frames.find((f) => f.id === id)?.result as CallToolResult;
    };
    const clientInfo = { name: 'raw', version: '0' };
    send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo } });
    send({ method: 'notifications/initialized' });
    await answer(1);
    send({ id: 'made', method: 'tools/call', params: { name: 'sandbox_create', arguments: { timeoutMs: 120_000 } } });
    const sandboxId = ((await answer('made')).structuredContent as { id: string }).id;
    const sleeping = async (arg: string) => {
      const r = await daemon.api(`/v1/sandboxes/${sandboxId}/processes`);
      const { processes } = (await r.json()) as { processes: Array<{ cmd: string[]; state: string }> };
      return processes.some((p) => p.state === 'running' && p.cmd[0] === 'sleep' && p.cmd[1] === arg);
    };

    send({ id: 'slow', method: 'tools/call', params: { name: 'run_command', arguments: { sandboxId, cmd: ['sleep', '300'] } } });
    await expect.poll(() => sleeping('300'), { timeout: 30_000 }).toBe(true);
    send({ method: 'notifications/cancelled', params: { requestId: 'slow', reason: 'no longer needed' } });
    await expect.poll(() => sleeping('300'), { timeout: 30_000 }).toBe(false);
    // Answered after the cancelled call ended: an answer to it would have been written by now.
    send({ id: 'after', method: 'tools/call', params: { name: 'sandbox_list', arguments: {} } });
    await answer('after');
    await new Promise((r) => setTimeout(r, 300));
    expect(frames.map((f) => f.id)).not.toContain('slow');

    send({ id: 'orphan', method: 'tools/call', params: { name: 'run_command', arguments: { sandboxId, cmd: ['sleep', '301'] } } });
    await expect.poll(() => sleeping('301'), { timeout: 30_000 }).toBe(true);
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(await sleeping('301')).toBe(false);
    expect(frames.map((f) => f.id)).not.toContain('orphan');
    await daemon.api(`/v1/sandboxes/${sandboxId}`, { method: 'DELETE' });
  });
});

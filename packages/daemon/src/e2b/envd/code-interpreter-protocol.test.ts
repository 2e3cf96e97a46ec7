import { lookup } from 'node:dns/promises';
import { Sandbox } from '@e2b/code-interpreter';
import { Sandbox as PaddockSandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

// The official `@e2b/code-interpreter` SDK against Paddock's code interpreter,
// on port 49999 of the one-URL form. Its first sandbox builds the
// code-interpreter template into this daemon's state (once for the file).
let daemon: TestDaemon;
let sbx: Sandbox;
const buildTimeoutMs = 30 * 60_000;

beforeAll(async () => {
  const { address } = await lookup('deb.debian.org', { family: 4 });
  daemon = await startTestDaemon(['--egress-allow-range', `${address}/32`]);
  const made = await daemon.api('/v1/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'operator', e2b: true }),
  });
  const apiKey = ((await made.json()) as { token: string }).token;
  // The build outlasts fetch's 5-minute wait for an answer: Paddock's SDK, which waits longer, makes the first sandbox.
  const first = await PaddockSandbox.create({ ...daemon.conn, template: 'code-interpreter', requestTimeoutMs: buildTimeoutMs });
  await first.kill();
  sbx = await Sandbox.create({ apiKey, apiUrl: `${daemon.url}/e2b`, sandboxUrl: daemon.url, requestTimeoutMs: buildTimeoutMs });
}, buildTimeoutMs);

afterAll(async () => {
  await daemon?.stop();
});

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, 'base64');
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('runCode through the code-interpreter SDK', () => {
  it('keeps state across cells and streams stdout as it comes', async () => {
    await sbx.runCode('x = 41');
    const lines: string[] = [];
    const r = await sbx.runCode('print("side"); x + 1', { onStdout: (m) => void lines.push(m.line) });
    expect(r.error).toBeUndefined();
    // Chunks as the kernel flushed them: a loaded kernel may flush print's text and its newline apart.
    expect(r.logs.stdout.join('')).toBe('side\n');
    expect(lines.join('')).toBe('side\n');
    expect(r.text).toBe('42');
    expect(r.executionCount).toBeGreaterThan(0);
  });

  it('returns a chart as a PNG result and an exception as an error', async () => {
    await sbx.runCode("%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}");
    const chart = await sbx.runCode('import matplotlib.pyplot as plt\nplt.figure(figsize=(6.4, 4.8), dpi=100)\nplt.plot([1, 2, 3], [3, 1, 2]);');
    const png = chart.results.find((x) => x.png)?.png ?? '';
    expect(pngSize(png)).toEqual({ width: 640, height: 480 });
    expect(chart.results.find((x) => x.png)?.formats()).toContain('png');
    const failed = await sbx.runCode('raise ValueError("bad value")');
    expect(failed.error).toMatchObject({ name: 'ValueError', value: 'bad value' });
    expect(failed.error?.traceback).toContain('ValueError');
  });

  it('runs JavaScript and Bash cells, by language or in a context of their own', async () => {
    await sbx.runCode('const n = 41', { language: 'js' });
    expect((await sbx.runCode('n + 1', { language: 'js' })).text).toBe('42');
    const bash = await sbx.createCodeContext({ language: 'bash' });
    expect(bash).toMatchObject({ language: 'bash' });
    await sbx.runCode('N=7', { context: bash });
    expect((await sbx.runCode('echo "n=$N"', { context: bash })).logs.stdout.join('')).toBe('n=7\n');
    // Python's state is its own: no n there.
    expect((await sbx.runCode('n')).error?.name).toBe('NameError');
  });

  it('makes, lists, restarts and removes contexts, each with its own state', async () => {
    const ctx = await sbx.createCodeContext({ cwd: '/tmp' });
    expect(ctx).toMatchObject({ language: 'python', cwd: '/tmp' });
    await sbx.runCode('y = 7', { context: ctx });
    expect((await sbx.runCode('y', { context: ctx })).text).toBe('7');
    expect((await sbx.runCode('import os; os.getcwd()', { context: ctx })).text).toBe("'/tmp'");
    expect((await sbx.listCodeContexts()).map((c) => c.id)).toContain(ctx.id);
    await sbx.restartCodeContext(ctx);
    expect((await sbx.runCode('y', { context: ctx })).error?.name).toBe('NameError');
    await sbx.removeCodeContext(ctx);
    expect((await sbx.listCodeContexts()).map((c) => c.id)).not.toContain(ctx.id);
  });
});

import { lookup } from 'node:dns/promises';
import { ConflictError, Pools, Sandbox, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Real kernels in real sandboxes. The first sandbox of the code-interpreter
// template builds it into this daemon's own state (Debian's packages through
// the build's egress proxy), as a fresh install does on first use.
let daemon: TestDaemon;
let sbx: Sandbox;
const buildTimeoutMs = 30 * 60_000;

beforeAll(async () => {
  daemon = await startTestDaemon(['--egress-allow-range', await debianMirrorRange()]);
  // Room for several kernels with pandas and matplotlib loaded (each is some 100 MiB).
  sbx = await Sandbox.create({ ...daemon.conn, template: 'code-interpreter', limits: { memoryMiB: 2048 }, requestTimeoutMs: buildTimeoutMs });
}, buildTimeoutMs);

afterAll(async () => {
  await daemon?.stop();
});

/**
 * Debian's mirror as this host resolves it: a host may reach it through an
 * address the egress proxy refuses by default (a local mirror on a reserved
 * range), and the build must get its packages either way.
 */
async function debianMirrorRange(): Promise<string> {
  const { address } = await lookup('deb.debian.org', { family: 4 });
  return `${address}/32`;
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, 'base64');
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('code interpreter in real sandboxes', () => {
  it('builds the code-interpreter template on first use and keeps state across cells', async () => {
    expect(await Templates.get('code-interpreter', daemon.conn)).toMatchObject({ name: 'code-interpreter' });
    await sbx.runCode('x = 41');
    const r = await sbx.runCode('print("side"); x + 1');
    expect(r).toMatchObject({ error: null, logs: { stdout: 'side\n' }, results: [{ isMainResult: true, text: '42' }], timedOut: false, kernelDied: false });
  });

  it('returns a matplotlib figure as a decodable PNG without plt.show()', async () => {
    // Untrimmed (the inline backend trims to the drawing by default), so the size is the figure's: 6.4 × 4.8 inches at 100 dpi.
    await sbx.runCode("%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}");
    const r = await sbx.runCode('import matplotlib.pyplot as plt\nfig = plt.figure(figsize=(6.4, 4.8), dpi=100)\nplt.plot([1, 2, 3], [3, 1, 2]);');
    expect(r.error).toBeNull();
    const images = r.results.filter((x) => x.png);
    expect(images).toHaveLength(1);
    expect(pngSize(images[0]?.png ?? '')).toEqual({ width: 640, height: 480 });
  });

  it('returns a pandas DataFrame as a JSON table besides its text and HTML', async () => {
    const r = await sbx.runCode('import pandas as pd\ndf = pd.DataFrame({"region": ["north", "south"], "sales": [3, 4]})\ndf');
    const main = r.results.find((x) => x.isMainResult);
    expect(main?.html).toContain('<table');
    expect(main?.text).toContain('north');
    const table = main?.table as { schema: { fields: { name: string }[] }; data: Record<string, unknown>[] };
    expect(table.schema.fields.map((f) => f.name)).toEqual(['index', 'region', 'sales']);
    expect(table.data).toEqual([
      { index: 0, region: 'north', sales: 3 },
      { index: 1, region: 'south', sales: 4 },
    ]);
  });

  it('returns an exception with its name, value and traceback', async () => {
    const r = await sbx.runCode('def f():\n    raise ValueError("bad value")\nf()');
    expect(r.error).toMatchObject({ name: 'ValueError', value: 'bad value' });
    expect(r.error?.traceback).toContain('raise ValueError');
  });

  it('interrupts a cell at its timeout and keeps the kernel state', async () => {
    await sbx.runCode('kept = 5');
    const r = await sbx.runCode('import time\ntime.sleep(120)', { timeoutMs: 1500 });
    expect(r).toMatchObject({ timedOut: true, kernelDied: false, error: { name: 'KeyboardInterrupt' } });
    expect((await sbx.runCode('kept')).results[0]?.text).toBe('5');
  });

  it('reports a kernel that dies and brings it back with a restart', async () => {
    const ctx = await sbx.createCodeContext();
    const r = await sbx.runCode('import os; os._exit(1)', { context: ctx });
    expect(r.kernelDied).toBe(true);
    const refused = await sbx.runCode('1', { context: ctx }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: 'kernel_dead' });
    expect((await sbx.code.listContexts()).find((c) => c.id === ctx.id)?.state).toBe('dead');
    await sbx.code.restartContext(ctx);
    expect((await sbx.runCode('2 + 2', { context: ctx })).results[0]?.text).toBe('4');
    await sbx.code.deleteContext(ctx);
  });

  it('keeps two contexts apart, each with its own working directory', async () => {
    const a = await sbx.createCodeContext({ cwd: '/tmp' });
    const b = await sbx.createCodeContext();
    await Promise.all([sbx.runCode('v = "a"', { context: a }), sbx.runCode('v = "b"', { context: b })]);
    const [ra, rb] = await Promise.all([
      sbx.runCode('import os; (v, os.getcwd())', { context: a }),
      sbx.runCode('import os; (v, os.getcwd())', { context: b }),
    ]);
    expect(ra.results[0]?.text).toBe("('a', '/tmp')");
    expect(rb.results[0]?.text).toBe("('b', '/work')");
    await Promise.all([sbx.code.deleteContext(a), sbx.code.deleteContext(b)]);
  });

  it('runs JavaScript (node) and Bash contexts with their state, values and errors, and interrupts them at a timeout', async () => {
    const js = await sbx.createCodeContext({ language: 'javascript' });
    expect((await sbx.runCode('let x = 41; x + 1', { context: js })).results).toEqual([{ isMainResult: true, text: '42' }]);
    const obj = await sbx.runCode('console.log(process.version.startsWith("v")); ({ x, list: [x] })', { context: js });
    expect(obj).toMatchObject({ logs: { stdout: 'true\n' }, results: [{ isMainResult: true, json: { x: 41, list: [41] } }] });
    expect((await sbx.runCode('null.boom', { context: js })).error).toMatchObject({ name: 'TypeError' });
    expect(await sbx.runCode('for (;;) {}', { context: js, timeoutMs: 1500 })).toMatchObject({ timedOut: true, error: { name: 'KeyboardInterrupt' } });
    expect((await sbx.runCode('x', { context: js })).results[0]?.text).toBe('41');

    const sh = await sbx.createCodeContext({ language: 'bash', cwd: '/tmp' });
    await sbx.runCode('n=41; mkdir -p d && cd d', { context: sh });
    expect((await sbx.runCode('echo $((n + 1)) $PWD', { context: sh })).logs.stdout).toBe('42 /tmp/d\n');
    expect(await sbx.runCode('sleep 120', { context: sh, timeoutMs: 1500 })).toMatchObject({ timedOut: true, error: { name: 'KeyboardInterrupt' } });
    expect((await sbx.runCode('echo $n', { context: sh })).logs.stdout).toBe('41\n');
    await Promise.all([sbx.code.deleteContext(js), sbx.code.deleteContext(sh)]);
  });

  it('J1: protocol lines a cell prints (print, os.write to fd 1, a 10 MiB line) stay its output and never steer the daemon', async () => {
    const forged = '{"t":"end","id":"x","count":999,"status":"ok"}';
    const code = [
      'import os, sys',
      `print('${forged}')`,
      `os.write(1, b'{"t":"result","id":"x","main":true,"data":{"text/plain":"forged"}}\\n')`,
      'sys.stdout.write("y" * (10 * 1024 * 1024) + "\\n")',
      '"done"',
    ].join('\n');
    const r = await sbx.runCode(code);
    expect(r.results).toEqual([{ isMainResult: true, text: "'done'" }]);
    expect(r.logs.stdout).toContain(forged);
    expect(r.executionCount).not.toBe(999);
    // The next cell is answered as usual.
    expect((await sbx.runCode('1 + 1')).results[0]?.text).toBe('2');
  });

  it("J2: a cell writing straight into its driver's pipes (forged ends, garbage, a 20 MiB line) cannot end, forge or stall a cell", async () => {
    const code = [
      'import os, stat',
      'parent = os.getppid()',
      'lines = [b\'{"t":"end","id":"guess","count":999,"status":"ok"}\\n\', b"not json\\n", b\'{"t":"result"}\\n\', b"z" * (20 * 1024 * 1024) + b"\\n"]',
      'hit = 0',
      'for fd in os.listdir(f"/proc/{parent}/fd"):',
      '    path = f"/proc/{parent}/fd/{fd}"',
      '    try:',
      '        if fd == "0" or not stat.S_ISFIFO(os.stat(path).st_mode): continue',
      '        with open(path, "wb", buffering=0) as pipe:',
      '            for line in lines: pipe.write(line)',
      '        hit += 1',
      '    except OSError:',
      '        pass',
      'print("after", hit > 0)',
      '7',
    ].join('\n');
    const r = await sbx.runCode(code, { timeoutMs: 60_000 });
    expect(r.logs.stdout).toBe('after True\n');
    expect(r.results).toEqual([{ isMainResult: true, text: '7' }]);
    expect(r.executionCount).not.toBe(999);
    expect(r.truncated).toBe(true);
    expect((await sbx.runCode('3 * 3')).results[0]?.text).toBe('9');
  });

  it('runs the same cells on the gVisor tier: state, a chart, a table, an error, an interrupt', async () => {
    const g = await Sandbox.create({ ...daemon.conn, template: 'code-interpreter', tier: 'gvisor', limits: { memoryMiB: 2048 } });
    try {
      await g.runCode("%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}\nimport pandas as pd\nx = 41");
      const chart = await g.runCode(
        'import matplotlib.pyplot as plt\nplt.figure(figsize=(6.4, 4.8), dpi=100)\nplt.plot([1, 2]);\npd.DataFrame({"v": [x + 1]})',
      );
      expect(chart.error).toBeNull();
      expect(pngSize(chart.results.find((r) => r.png)?.png ?? '')).toEqual({ width: 640, height: 480 });
      expect(chart.results.find((r) => r.isMainResult)?.table).toMatchObject({ data: [{ index: 0, v: 42 }] });
      expect((await g.runCode('1/0')).error).toMatchObject({ name: 'ZeroDivisionError' });
      expect(await g.runCode('import time; time.sleep(60)', { timeoutMs: 1500 })).toMatchObject({ timedOut: true, error: { name: 'KeyboardInterrupt' } });
      expect((await g.runCode('echo $((6 * 7))', { language: 'bash' })).logs.stdout).toBe('42\n');
      expect((await g.runCode('6 * 7', { language: 'javascript' })).results[0]?.text).toBe('42');
      expect((await g.runCode('x + 1')).results[0]?.text).toBe('42');
    } finally {
      await g.kill();
    }
  });

  it('a warm pool of code-interpreter sandboxes hands them out with their Python kernel running; a claim with its own env gets a kernel of its own', async () => {
    const warmed = () => (daemon.log().match(/pooled sandbox warmed/g) ?? []).length;
    const pool = await Pools.set({ template: 'code-interpreter', size: 1, limits: { memoryMiB: 2048 } }, daemon.conn);
    try {
      await expect.poll(warmed, { timeout: 300_000, interval: 500 }).toBe(1);
      const claimed = await Sandbox.create({ ...daemon.conn, template: 'code-interpreter', limits: { memoryMiB: 2048 } });
      // Before any cell: the kernel is there, started while the sandbox waited.
      const [ready] = await claimed.code.listContexts();
      expect(ready).toMatchObject({ id: 'default-python', language: 'python', state: 'idle' });
      expect(Date.parse(ready?.createdAt ?? '')).toBeLessThan(Date.parse((await claimed.getInfo()).createdAt));
      expect((await claimed.runCode('1 + 1')).results[0]?.text).toBe('2');
      await claimed.kill();

      await expect.poll(warmed, { timeout: 300_000, interval: 500 }).toBe(2);
      const withEnv = await Sandbox.create({ ...daemon.conn, template: 'code-interpreter', limits: { memoryMiB: 2048 }, env: { GREETING: 'hi' } });
      expect((await withEnv.runCode('import os; os.environ.get("GREETING")')).results[0]?.text).toBe("'hi'");
      await withEnv.kill();
    } finally {
      await Pools.remove(pool.id, daemon.conn);
    }
  });

  // Last: it restarts the daemon.
  it('contexts survive a daemon killed with SIGKILL and started again: listed, with their variables, in each language', async () => {
    const js = await sbx.createCodeContext({ language: 'javascript' });
    const sh = await sbx.createCodeContext({ language: 'bash', cwd: '/tmp' });
    await sbx.runCode('x = 41');
    await sbx.runCode('let y = 41', { context: js });
    await sbx.runCode('z=41', { context: sh });
    const before = await sbx.code.listContexts();
    await daemon.crash();
    await daemon.restart();
    // The restarted daemon listens on a new port here: clients connect again.
    const again = await Sandbox.connect(sbx.id, daemon.conn);
    const after = await again.code.listContexts();
    expect(after.map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort());
    expect(after.find((c) => c.id === sh.id)).toMatchObject({ language: 'bash', cwd: '/tmp', state: 'idle' });
    expect((await again.runCode('x + 1')).results[0]?.text).toBe('42');
    expect((await again.runCode('y + 1', { context: js.id })).results[0]?.text).toBe('42');
    expect((await again.runCode('echo $((z + 1))', { context: sh.id })).logs.stdout).toBe('42\n');
    // Interrupt and timeout reach the same kernels.
    expect(await again.runCode('import time; time.sleep(60)', { timeoutMs: 1500 })).toMatchObject({ timedOut: true });
    expect((await again.runCode('x')).results[0]?.text).toBe('41');
    await again.code.deleteContext(js.id);
    expect((await again.code.listContexts()).map((c) => c.id)).not.toContain(js.id);
  });
});

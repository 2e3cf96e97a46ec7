import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../../daemon/src/testing/fast-daemon.js';
import { runCli } from '../../daemon/src/testing/run-cli.js';

// slow tier: the cells run in real Python, JavaScript and Bash kernels (seconds of CPU each to start).
let daemon: FastDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
  await daemon?.stop();
});

const paddock = (args: string[], stdin?: string) => runCli(args, { env: daemon.env, stdin });

describe('paddock code', () => {
  it('runs code from stdin in a kernel that keeps its variables, printing output and the value', async () => {
    expect(await paddock(['code', sbx.id], 'total = 40\nprint("set")\n')).toEqual({ code: 0, stdout: 'set\n', stderr: '' });
    expect(await paddock(['code', sbx.id], 'total + 2\n')).toEqual({ code: 0, stdout: '42\n', stderr: '' });
  });

  it('exits 1 with the traceback on stderr and a one-line message when the code raises', async () => {
    const r = await paddock(['code', sbx.id], 'raise ValueError("no good")\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Traceback');
    expect(r.stderr.trim().split('\n').at(-1)).toBe('paddock: ValueError: no good');
  });

  it('exits 124 when the cell runs past --timeout, and the kernel keeps its state', async () => {
    const r = await paddock(['code', sbx.id, '--timeout', '1s'], 'import time\ntime.sleep(60)\n');
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/interrupted/);
    expect((await paddock(['code', sbx.id], 'total\n')).stdout).toBe('40\n');
  });

  it('refuses an unknown context with exit 1 and one line', async () => {
    const r = await paddock(['code', sbx.id, '--context', 'ctx-none'], '1\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^paddock: code context ctx-none not found in sandbox sb-\S+\n$/);
  });

  it('runs JavaScript and Bash with --language, each in its default context, and refuses an unknown language with a usage error', async () => {
    expect(await paddock(['code', sbx.id, '--language', 'javascript'], 'let n = 40\n')).toMatchObject({ code: 0 });
    expect(await paddock(['code', sbx.id, '-l', 'javascript'], 'console.log("js"); n + 2\n')).toEqual({ code: 0, stdout: 'js\n42\n', stderr: '' });
    expect(await paddock(['code', sbx.id, '-l', 'bash'], 'echo $((40 + 2))\n')).toEqual({ code: 0, stdout: '42\n', stderr: '' });
    const failed = await paddock(['code', sbx.id, '-l', 'bash'], 'false\n');
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim().split('\n').at(-1)).toBe('paddock: ExitStatus: 1');
    const wrong = await paddock(['code', sbx.id, '-l', 'cobol'], '1\n');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('paddock: --language: cobol is not one of python, javascript, bash\n');
  });

  it('--interactive reads lines as cells, gathers a block until a blank line, and saves an image to a file it names', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'paddock-repl-'));
    try {
      const png1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
      const input = [
        'n = 40',
        'def add(a):',
        '    return a + 2',
        '',
        'add(n)',
        'import base64; from IPython.display import Image, display',
        `display(Image(data=base64.b64decode("${png1x1}")))`,
        '1/0',
        'print("still here")',
        '',
      ].join('\n');
      const r = await runCli(['code', sbx.id, '--interactive'], { env: daemon.env, stdin: input, cwd: folder });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('42\n');
      expect(r.stdout).toContain('still here\n');
      expect(r.stderr).toContain('ZeroDivisionError');
      const saved = /\[image saved to (\S+\.png)\]/.exec(r.stdout)?.[1];
      expect(readFileSync(join(folder, saved ?? 'none')).toString('base64')).toBe(png1x1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FastDaemon, startFastDaemon } from '../testing/fast-daemon.js';

// The fast tier runs the kernel from the host's own python3 (python3-ipykernel,
// python3-jupyter-client): the same driver and API as in a real sandbox.
let daemon: FastDaemon;
let sbx: Sandbox;

beforeAll(async () => {
  daemon = await startFastDaemon();
  sbx = await Sandbox.create({ ...daemon.conn });
});

afterAll(async () => {
  await daemon?.stop();
});

describe('code contexts (fast tier)', () => {
  it('keeps state between cells and returns output, the value and the execution count', async () => {
    const first = await sbx.runCode('x = 41\nprint("hello")');
    expect(first).toMatchObject({ error: null, logs: { stdout: 'hello\n', stderr: '' }, results: [], timedOut: false, kernelDied: false });
    const second = await sbx.runCode('x + 1');
    expect(second.results).toEqual([{ isMainResult: true, text: '42' }]);
    expect(second.executionCount).toBe((first.executionCount ?? 0) + 1);
    expect(second.contextId).toBe(first.contextId);
  });

  it('streams output to the callbacks and returns an exception as error with its traceback', async () => {
    const seen: string[] = [];
    const r = await sbx.runCode('import sys\nprint("out")\nprint("err", file=sys.stderr)\n1/0', {
      onStdout: (t) => seen.push(`out:${t}`),
      onStderr: (t) => seen.push(`err:${t}`),
    });
    expect(seen).toEqual(['out:out\n', 'err:err\n']);
    expect(r.error).toMatchObject({ name: 'ZeroDivisionError', value: 'division by zero' });
    expect(r.error?.traceback).toContain('1/0');
    // Plain text: the terminal colours IPython adds are gone.
    expect(r.error?.traceback).not.toContain('\x1b[');
  });

  it('keeps contexts apart and lists, restarts and deletes them', async () => {
    const a = await sbx.createCodeContext();
    const b = await sbx.createCodeContext({ env: { GREETING: 'from b' } });
    await sbx.runCode('v = "a"', { context: a });
    await sbx.runCode('v = "b"', { context: b });
    expect((await sbx.runCode('v', { context: a })).results[0]?.text).toBe("'a'");
    expect((await sbx.runCode('import os; os.environ["GREETING"]', { context: b })).results[0]?.text).toBe("'from b'");
    expect((await sbx.code.listContexts()).map((c) => c.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    await sbx.code.restartContext(a);
    expect((await sbx.runCode('v', { context: a })).error?.name).toBe('NameError');
    await sbx.code.deleteContext(b);
    const gone = await sbx.runCode('1', { context: b }).catch((e: unknown) => e);
    expect(gone).toMatchObject({ code: 'code_context_not_found' });
  });

  it('answers a cell for a context that does not exist with a 404 and a stable code', async () => {
    const res = await fetch(`${daemon.url}/v1/sandboxes/${sbx.id}/code/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: '1', contextId: 'ctx-nope' }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('code_context_not_found');
  });
});

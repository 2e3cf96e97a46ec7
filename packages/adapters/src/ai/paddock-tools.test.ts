import { Sandbox, Tokens } from '@paddock/sdk';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV2 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../../../daemon/src/testing/fast-daemon.js';
import { paddockTools } from './index.js';

// The AI SDK's own loop (generateText with tools and several steps), its mock
// model standing in for the user's, against a real daemon and sandboxes.
// The fast tier's kernels are the host's python3 (ipykernel, no matplotlib): a 1×1 PNG through IPython's display comes back as a chart does.
const png1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const chartCell = `import base64\nfrom IPython.display import Image, display\ndisplay(Image(data=base64.b64decode("${png1x1}")))\nprint("drawn")\nx + 1`;

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startFastDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

type Prompt = Parameters<MockLanguageModelV2['doGenerate']>[0]['prompt'];
type Content = Awaited<ReturnType<MockLanguageModelV2['doGenerate']>>['content'];

/** The outputs of the tool results the model was shown last, as the SDK sent them. */
function lastToolOutputs(prompt: Prompt): unknown[] {
  const last = prompt.at(-1);
  if (last?.role !== 'tool') return [];
  return last.content.map((part) => part.output);
}

/** A model that makes one tool call, then answers with what the tool gave it. */
function scriptedModel(toolName: string, input: Record<string, unknown>): MockLanguageModelV2 {
  return new MockLanguageModelV2({
    doGenerate: async ({ prompt }) => {
      const outputs = lastToolOutputs(prompt);
      const content: Content = outputs.length
        ? [{ type: 'text', text: `tool said: ${JSON.stringify(outputs)}` }]
        : [{ type: 'tool-call', toolCallId: 'call-1', toolName, input: JSON.stringify(input) }];
      return {
        content,
        finishReason: outputs.length ? 'stop' : 'tool-calls',
        usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 },
        warnings: [],
      };
    },
  });
}

describe('AI SDK tools', () => {
  it('runs a tool-call loop: run_code executes python in a sandbox and the model answers with its output', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    const code = "open('/tmp/answer.txt', 'w').write(str(6*7)); print(6*7)";
    try {
      const model = scriptedModel('run_code', { language: 'python', code });
      const result = await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(4), prompt: 'What is 6*7? Compute it with python.' });

      expect(result.steps).toHaveLength(2);
      const toolResult = result.steps[0]?.toolResults[0];
      expect(toolResult?.toolName).toBe('run_code');
      expect(toolResult?.output).toEqual({ exitCode: 0, stdout: '42\n', stderr: '' });
      expect(result.text).toContain('42');
      expect(result.finishReason).toBe('stop');

      // It ran in the toolkit's sandbox: the file the program wrote is there.
      const sandbox = await paddock.sandbox();
      expect(await sandbox.files.read('/tmp/answer.txt')).toBe('42');
    } finally {
      await paddock.close();
    }
    const left = await Sandbox.list({ ...daemon.conn });
    expect(left.filter((s) => s.state === 'running')).toEqual([]);
  });

  it('run_code with contextId keeps state between calls and gives the model a chart as an image (a media part)', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    const calls = [
      { language: 'python', contextId: 'default', code: 'x = 41' },
      { language: 'python', contextId: 'default', code: chartCell },
    ];
    const shown: unknown[][] = [];
    const model = new MockLanguageModelV2({
      doGenerate: async ({ prompt }) => {
        const outputs = lastToolOutputs(prompt);
        if (outputs.length) shown.push(outputs);
        const next = calls[shown.length];
        const content: Content = next
          ? [{ type: 'tool-call', toolCallId: `call-${shown.length + 1}`, toolName: 'run_code', input: JSON.stringify(next) }]
          : [{ type: 'text', text: 'done' }];
        return { content, finishReason: next ? 'tool-calls' : 'stop', usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 }, warnings: [] };
      },
    });
    try {
      const result = await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(5), prompt: 'Plot it.' });
      expect(result.steps).toHaveLength(3);
      expect(shown[0]?.[0]).toMatchObject({ type: 'content', value: [{ type: 'text' }] });
      const [text, media] = (shown[1]?.[0] as { type: string; value: Array<Record<string, unknown>> } | undefined)?.value ?? [];
      expect(JSON.parse(String(text?.text))).toMatchObject({
        contextId: 'default-python',
        stdout: 'drawn\n',
        results: [{ image: 'image/png' }, { isMainResult: true, text: '42' }],
      });
      expect(media).toEqual({ type: 'media', data: png1x1, mediaType: 'image/png' });
      // The application gets the images with the result; only the model's copy has them apart.
      expect(result.steps[1]?.toolResults[0]?.output).toMatchObject({ images: [{ mediaType: 'image/png', data: png1x1 }] });
    } finally {
      await paddock.close();
    }
  });

  it('gives a failing tool call to the model as an error text, and the loop goes on', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = scriptedModel('read_file', { path: '/no/such/file.txt' });
      const result = await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(4), prompt: 'Read /no/such/file.txt' });

      expect(result.steps).toHaveLength(2);
      const output = result.steps[0]?.toolResults[0]?.output as { error?: string };
      expect(output.error).toMatch(/not_found/);
      expect(output.error).toContain('/no/such/file.txt');
      // The model saw the error text and answered.
      expect(result.text).toMatch(/tool said: .*not_found/);
      expect(result.finishReason).toBe('stop');
    } finally {
      await paddock.close();
    }
  });

  it('Q11: runs end to end on a capability token, and gives a call outside its scope to the model as an error text', async () => {
    const scope = { actions: ['sandbox.create', 'sandbox.kill', 'exec', 'files.read'], templates: ['base'], maxSandboxes: 1 };
    const { token } = await Tokens.create({ role: 'agent', name: 'ai sdk agent', scope, ttlMs: 600_000 }, daemon.conn);
    const paddock = paddockTools({ connection: { url: daemon.url, token } });
    try {
      const ran = await generateText({
        model: scriptedModel('run_code', { language: 'python', code: 'print(6*7)' }),
        tools: paddock.tools,
        stopWhen: stepCountIs(4),
        prompt: 'What is 6*7?',
      });
      expect(ran.steps[0]?.toolResults[0]?.output).toEqual({ exitCode: 0, stdout: '42\n', stderr: '' });
      const write = await generateText({
        model: scriptedModel('write_file', { path: '/tmp/x.txt', content: 'no' }),
        tools: paddock.tools,
        stopWhen: stepCountIs(4),
        prompt: 'Write a file',
      });
      const output = write.steps[0]?.toolResults[0]?.output as { error?: string };
      expect(output.error).toMatch(/^scope_denied: this token's scope does not allow sandbox\.file\.write/);
      expect(write.text).toMatch(/tool said: .*scope_denied/);
    } finally {
      await paddock.close();
    }
    // Its one sandbox is spent: a second toolkit on the same token gets the reason, not a sandbox.
    const again = paddockTools({ connection: { url: daemon.url, token } });
    try {
      const r = await generateText({
        model: scriptedModel('run_code', { language: 'bash', code: 'true' }),
        tools: again.tools,
        stopWhen: stepCountIs(4),
        prompt: 'Run',
      });
      expect((r.steps[0]?.toolResults[0]?.output as { error?: string } | undefined)?.error).toMatch(/^token_exhausted: .*all 1 sandboxes/);
    } finally {
      await again.close();
    }
    expect((await Sandbox.list({ ...daemon.conn })).filter((s) => s.state === 'running')).toEqual([]);
  });

  // U5: the AI SDK checks a tool call's input itself and gives the model a tool error; the loop goes on.
  it('U5: gives arguments that miss the schema back to the model, and the loop goes on', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = scriptedModel('run_command', { command: 42 });
      const result = await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(4), prompt: 'Run something' });
      expect(result.steps).toHaveLength(2);
      expect(result.text).toMatch(/tool said: .*run_command.*command/i);
      expect(result.finishReason).toBe('stop');
    } finally {
      await paddock.close();
    }
  });

  it('works in a sandbox the caller gives and leaves it running at close', async () => {
    const sandbox = await Sandbox.create({ ...daemon.conn });
    try {
      const paddock = paddockTools({ sandbox });
      const model = scriptedModel('run_command', { command: 'echo hi > /tmp/x && cat /tmp/x && exit 3' });
      const result = await generateText({ model, tools: paddock.tools, stopWhen: stepCountIs(4), prompt: 'go' });
      // A non-zero exit is a result for the model, not an error.
      expect(result.steps[0]?.toolResults[0]?.output).toEqual({ exitCode: 3, stdout: 'hi\n', stderr: '' });
      await paddock.close();
      expect(await sandbox.isRunning()).toBe(true);
    } finally {
      await sandbox.kill();
    }
  });
});

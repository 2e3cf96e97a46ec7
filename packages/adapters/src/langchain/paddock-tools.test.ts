import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import type { StructuredToolInterface } from '@langchain/core/tools';
import { Sandbox } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../../../daemon/src/testing/fast-daemon.js';
import { paddockTools } from './index.js';

// LangChain's fakes in @langchain/core/utils/testing either cannot emit tool
// calls (FakeListChatModel) or emit the same ones on every turn
// (FakeStreamingChatModel), so a loop would never end: this chat model is the
// smallest BaseChatModel that calls a tool once, then answers from its result.
class ScriptedChatModel extends BaseChatModel {
  readonly seen: BaseMessage[][] = [];

  private readonly calls: Array<{ name: string; args: Record<string, unknown> }>;

  /** One call, or several made one after another, each once the last one's result is in. */
  constructor(calls: { name: string; args: Record<string, unknown> } | Array<{ name: string; args: Record<string, unknown> }>) {
    super({});
    this.calls = Array.isArray(calls) ? calls : [calls];
  }

  _llmType(): string {
    return 'scripted';
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.seen.push(messages);
    const last = messages.at(-1);
    const done = messages.filter((m) => m instanceof ToolMessage).length;
    const next = this.calls[done];
    const message =
      last instanceof ToolMessage && !next
        ? new AIMessage(`tool said: ${String(last.content)}`)
        : new AIMessage({ content: '', tool_calls: [{ id: `call-${done + 1}`, name: next?.name ?? '', args: next?.args ?? {}, type: 'tool_call' }] });
    return { generations: [{ text: String(message.content), message }] };
  }
}

/** The plain agent loop: ask the model, run the tools it calls, give it their results, until it answers. */
async function agentLoop(model: BaseChatModel, tools: StructuredToolInterface[], prompt: string): Promise<BaseMessage[]> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const messages: BaseMessage[] = [new HumanMessage(prompt)];
  for (let turn = 0; turn < 5; turn++) {
    const reply = await model.invoke(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) return messages;
    for (const call of reply.tool_calls) {
      const tool = byName.get(call.name);
      if (!tool) throw new Error(`unknown tool ${call.name}`);
      // Invoked with the whole tool call, a LangChain tool answers with a ToolMessage.
      messages.push((await tool.invoke(call)) as ToolMessage);
    }
  }
  throw new Error('the loop did not end');
}

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

describe('LangChain tools', () => {
  it('offers the five tools with their schemas', () => {
    const { tools } = paddockTools({ connection: daemon.conn });
    expect(tools.map((t) => t.name).sort()).toEqual(['list_files', 'read_file', 'run_code', 'run_command', 'write_file']);
    for (const tool of tools) expect(tool.description, tool.name).toBeTruthy();
  });

  it('runs a tool-call loop: run_code executes python in a sandbox and the model answers with its output', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = new ScriptedChatModel({ name: 'run_code', args: { language: 'python', code: 'import os; print(6*7, os.getcwd())' } });
      const messages = await agentLoop(model, paddock.tools, 'What is 6*7? Compute it with python.');

      const toolMessage = messages.find((m) => m instanceof ToolMessage) as ToolMessage;
      expect(toolMessage.tool_call_id).toBe('call-1');
      expect(toolMessage.status).not.toBe('error');
      const output = JSON.parse(String(toolMessage.content)) as { exitCode: number; stdout: string };
      expect(output.exitCode).toBe(0);
      expect(output.stdout).toMatch(/^42 \//);
      // The model got the tool's result, and its answer carries it.
      expect(model.seen.at(-1)?.at(-1)).toBe(toolMessage);
      expect(String(messages.at(-1)?.content)).toContain('42');

      const sandbox = await paddock.sandbox();
      expect(await sandbox.isRunning()).toBe(true);
    } finally {
      await paddock.close();
    }
    expect((await Sandbox.list({ ...daemon.conn })).filter((s) => s.state === 'running')).toEqual([]);
  });

  it('run_code with contextId keeps state between calls and gives the model a chart as an image block', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = new ScriptedChatModel([
        { name: 'run_code', args: { language: 'python', contextId: 'default', code: 'x = 41' } },
        { name: 'run_code', args: { language: 'python', contextId: 'default', code: chartCell } },
      ]);
      const messages = await agentLoop(model, paddock.tools, 'Plot it.');
      const answers = messages.filter((m) => m instanceof ToolMessage) as ToolMessage[];
      expect(answers).toHaveLength(2);
      expect(JSON.parse(String(answers[0]?.content))).toMatchObject({ contextId: 'default-python', error: null, results: [] });
      const [text, image] = (answers[1]?.content ?? []) as Array<Record<string, unknown>>;
      expect(JSON.parse(String(text?.text))).toMatchObject({ stdout: 'drawn\n', results: [{ image: 'image/png' }, { isMainResult: true, text: '42' }] });
      expect(image).toEqual({ type: 'image', mimeType: 'image/png', data: png1x1 });
      // The model was given the image with the rest.
      expect(model.seen.at(-1)?.at(-1)).toBe(answers[1]);
    } finally {
      await paddock.close();
    }
  });

  it('writes, lists and reads files in the same sandbox across calls', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    const byName = new Map(paddock.tools.map((t) => [t.name, t]));
    const call = async (name: string, args: Record<string, unknown>) => String(await byName.get(name)?.invoke(args));
    try {
      expect(JSON.parse(await call('write_file', { path: '/work/notes/a.txt', content: 'hello' }))).toMatchObject({ size: 5 });
      expect(JSON.parse(await call('list_files', { path: '/work/notes' })).entries).toEqual([{ name: 'a.txt', type: 'file', size: 5 }]);
      expect(JSON.parse(await call('read_file', { path: '/work/notes/a.txt' }))).toMatchObject({ content: 'hello', truncated: false });
    } finally {
      await paddock.close();
    }
  });

  it('works in a sandbox through a token bound to it, and gives a call outside that token’s scope back as an error text', async () => {
    const owner = await Sandbox.create({ ...daemon.conn });
    try {
      const { token } = await owner.createScopedToken({ actions: ['exec', 'files.read'], ttlMs: 600_000 });
      const sandbox = await Sandbox.connect(owner.id, { url: daemon.url, token });
      const paddock = paddockTools({ sandbox });
      const byName = new Map(paddock.tools.map((t) => [t.name, t]));
      const call = async (name: string, args: Record<string, unknown>) => String(await byName.get(name)?.invoke(args));
      expect(JSON.parse(await call('run_command', { command: 'echo bound' }))).toMatchObject({ exitCode: 0, stdout: 'bound\n' });
      expect(await call('write_file', { path: '/work/x.txt', content: 'no' })).toMatch(
        /^error: scope_denied: this token's scope does not allow sandbox\.file\.write/,
      );
      await paddock.close();
      expect(await owner.isRunning()).toBe(true);
      // The token reaches nothing else of its tenant.
      const elsewhere = await Sandbox.create({ ...daemon.conn });
      await expect(Sandbox.connect(elsewhere.id, { url: daemon.url, token })).rejects.toMatchObject({ code: 'sandbox_not_found' });
      await elsewhere.kill();
    } finally {
      await owner.kill();
    }
  });

  it('gives a failing tool call to the model as an error text, and the loop goes on', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = new ScriptedChatModel({ name: 'read_file', args: { path: '/no/such/file.txt' } });
      const messages = await agentLoop(model, paddock.tools, 'Read /no/such/file.txt');
      const toolMessage = messages.find((m) => m instanceof ToolMessage) as ToolMessage;
      expect(String(toolMessage.content)).toMatch(/^error: \w*not_found: .*\/no\/such\/file\.txt/);
      expect(String(messages.at(-1)?.content)).toMatch(/^tool said: error: /);
    } finally {
      await paddock.close();
    }
  });

  // U5: arguments that miss the schema made the tool throw, which ended the agent's loop.
  it('U5: gives arguments that miss the schema back to the model as an error text, and the loop goes on', async () => {
    const paddock = paddockTools({ connection: daemon.conn });
    try {
      const model = new ScriptedChatModel({ name: 'run_command', args: { command: 42, extra: true } });
      const messages = await agentLoop(model, paddock.tools, 'Run something');
      const toolMessage = messages.find((m) => m instanceof ToolMessage) as ToolMessage;
      expect(toolMessage.tool_call_id).toBe('call-1');
      expect(String(toolMessage.content)).toMatch(/^error: invalid_arguments: run_command: command: .*string/);
      expect(String(messages.at(-1)?.content)).toMatch(/^tool said: error: invalid_arguments: /);
      // Called with bare arguments, the tool answers with the text alone.
      const runCode = paddock.tools.find((t) => t.name === 'run_code');
      expect(String(await runCode?.invoke({ language: 'cobol', code: 'x' }))).toMatch(/^error: invalid_arguments: run_code: language: /);
    } finally {
      await paddock.close();
    }
  });
});

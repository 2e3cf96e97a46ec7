// Paddock tools in a LangChain tool-calling loop.
//
//   npm i @langchain/openai   # or @langchain/anthropic; the model is yours
//   OPENAI_API_KEY=… npx tsx examples/langchain.ts "How many primes are below 10000?"
//
// The daemon is found through PADDOCK_URL and PADDOCK_TOKEN (`make up` prints both).
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type BaseMessage, HumanMessage, SystemMessage, type ToolMessage } from '@langchain/core/messages';
import { paddockTools } from '@paddock/adapters/langchain';

type ChatModelClass = new (fields: { model: string }) => BaseChatModel;

/** The provider whose key is set, imported only if it is installed. */
async function userModel(): Promise<BaseChatModel | undefined> {
  const providers = [
    { key: 'OPENAI_API_KEY', module: '@langchain/openai', className: 'ChatOpenAI', model: 'gpt-4.1-mini' },
    { key: 'ANTHROPIC_API_KEY', module: '@langchain/anthropic', className: 'ChatAnthropic', model: 'claude-sonnet-4-5' },
  ];
  for (const p of providers) {
    if (!process.env[p.key]) continue;
    const mod = (await import(p.module).catch(() => undefined)) as Record<string, ChatModelClass> | undefined;
    const Model = mod?.[p.className];
    if (Model) return new Model({ model: process.env.MODEL ?? p.model });
    console.error(`${p.key} is set but ${p.module} is not installed: npm i ${p.module}`);
  }
  return undefined;
}

const chat = await userModel();
if (!chat?.bindTools) {
  console.error('Set OPENAI_API_KEY (with @langchain/openai) or ANTHROPIC_API_KEY (with @langchain/anthropic) and run again.');
  process.exit(1);
}

const paddock = paddockTools();
const tools = new Map(paddock.tools.map((t) => [t.name, t]));
const model = chat.bindTools(paddock.tools);
const messages: BaseMessage[] = [
  new SystemMessage('You have a Linux sandbox. Run code to check your answers.'),
  new HumanMessage(process.argv[2] ?? 'What is the 30th Fibonacci number? Compute it with Python.'),
];
try {
  for (let turn = 0; turn < 10; turn++) {
    const reply = await model.invoke(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) break;
    for (const call of reply.tool_calls) {
      console.error(`→ ${call.name} ${JSON.stringify(call.args)}`);
      // A tool invoked with the model's tool call answers with a ToolMessage; failures come back as "error: …" text.
      messages.push((await tools.get(call.name)?.invoke(call)) as ToolMessage);
    }
  }
  console.log(String(messages.at(-1)?.content));
} finally {
  await paddock.close();
}

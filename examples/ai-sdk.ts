// Paddock tools in a Vercel AI SDK agent loop.
//
//   npm i @ai-sdk/openai      # or @ai-sdk/anthropic; the model is yours
//   OPENAI_API_KEY=… npx tsx examples/ai-sdk.ts "How many primes are below 10000?"
//
// The daemon is found through PADDOCK_URL and PADDOCK_TOKEN (`make up` prints both).
import { paddockTools } from '@paddock/adapters/ai';
import { generateText, type LanguageModel, stepCountIs } from 'ai';

/** The provider whose key is set, imported only if it is installed. */
async function userModel(): Promise<LanguageModel | undefined> {
  const providers = [
    { key: 'OPENAI_API_KEY', module: '@ai-sdk/openai', factory: 'openai', model: 'gpt-4.1-mini' },
    { key: 'ANTHROPIC_API_KEY', module: '@ai-sdk/anthropic', factory: 'anthropic', model: 'claude-sonnet-4-5' },
  ];
  for (const p of providers) {
    if (!process.env[p.key]) continue;
    const mod = (await import(p.module).catch(() => undefined)) as Record<string, (id: string) => LanguageModel> | undefined;
    if (mod) return mod[p.factory]?.(process.env.MODEL ?? p.model);
    console.error(`${p.key} is set but ${p.module} is not installed: npm i ${p.module}`);
  }
  return undefined;
}

const model = await userModel();
if (!model) {
  console.error('Set OPENAI_API_KEY (with @ai-sdk/openai) or ANTHROPIC_API_KEY (with @ai-sdk/anthropic) and run again.');
  process.exit(1);
}

const paddock = paddockTools({ create: { template: 'base', network: { allow: ['pypi.org', '*.pythonhosted.org'] } } });
try {
  const result = await generateText({
    model,
    tools: paddock.tools,
    stopWhen: stepCountIs(10),
    system: 'You have a Linux sandbox. Run code to check your answers.',
    prompt: process.argv[2] ?? 'What is the 30th Fibonacci number? Compute it with Python.',
    onStepFinish: ({ toolCalls }) => {
      for (const call of toolCalls) console.error(`→ ${call.toolName} ${JSON.stringify(call.input)}`);
    },
  });
  console.log(result.text);
} finally {
  await paddock.close();
}

/** A local stack with a provider model pointed at the loopback fake OpenAI, shared by the provider tests. */
import { startStack, type Stack } from "../../scripts/stack.js";
import { startFakeOpenAI, type FakeOpenAI } from "../fake-openai/index.js";

export const POOL_MODEL = { id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 };
export const PROVIDER_MODEL_ID = "gpt-test";
export const UPSTREAM_MODEL = "gpt-4o-mini";
/** The provider key: it must never reach a client. */
export const PROVIDER_KEY = "sk-provider-secret-DO-NOT-LEAK";

export interface ProviderStack {
  stack: Stack;
  fake: FakeOpenAI;
  stop(): Promise<void>;
}

export async function startProviderStack(vars: Record<string, string> = {}): Promise<ProviderStack> {
  const fake = await startFakeOpenAI();
  const provider = {
    id: PROVIDER_MODEL_ID,
    provider: "openai-compatible",
    baseUrl: fake.baseUrl,
    apiKeySecret: "OPENAI_API_KEY",
    upstreamModel: UPSTREAM_MODEL,
    contextLength: 128_000,
    defaultMaxTokens: 1024,
  };
  try {
    const stack = await startStack({
      sims: 1,
      sim: { fast: true, reply: "echo" },
      vars: {
        MODELS: JSON.stringify([POOL_MODEL, provider]),
        OPENAI_API_KEY: PROVIDER_KEY,
        FIRST_TOKEN_TIMEOUT_MS: "1500",
        FAILOVER_DEADLINE_MS: "4000",
        MAX_ATTEMPTS: "3",
        ...vars,
      },
    });
    return { stack, fake, stop: async () => void (await Promise.all([stack.stop(), fake.stop()])) };
  } catch (err) {
    await fake.stop();
    throw err;
  }
}

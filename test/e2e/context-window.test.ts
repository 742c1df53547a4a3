/**
 * What happens when a conversation outgrows the model's window, through the real stack with the
 * openai SDK: a stateless request that sent its history gets OpenAI's 400 unless it opted in to
 * trimming; a trimmed answer (stateless with truncation "auto", or any stored conversation) says
 * how many messages it left out, and the prompt holds exactly the kept ones.
 */
import OpenAI, { BadRequestError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../scripts/stack.js";
import { ConversationApi } from "./conversation-api.js";

const MODEL = "vicuna-13b-v1.5";
const DROPPED_HEADER = "x-altiplano-dropped-messages";
// A window that holds about three of the turns below.
const MODELS = JSON.stringify([{ id: MODEL, template: "vicuna_v1.1", contextLength: 256, defaultMaxTokens: 16 }]);

let stack: Stack;
let client: OpenAI;

beforeAll(async () => {
  stack = await startStack({ sims: 1, sim: { reply: "echo", fast: true }, vars: { MODELS } });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: stack.userKey, maxRetries: 0 });
});

afterAll(async () => {
  await stack?.stop();
});

/** Turn i's text: long enough that a few turns fill the window, and easy to find in a prompt. */
const filler = (i: number) => `turn-${i} ${"llamas graze on the high plateau ".repeat(4)}`;

function history(turns: number): OpenAI.ChatCompletionMessageParam[] {
  const messages: OpenAI.ChatCompletionMessageParam[] = [];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: "user", content: filler(2 * i) }, { role: "assistant", content: filler(2 * i + 1) });
  }
  messages.push({ role: "user", content: "newest question" });
  return messages;
}

describe("the context window", () => {
  it("a stateless request whose history does not fit is refused like OpenAI does", async () => {
    const err = await client.chat.completions.create({ model: MODEL, messages: history(6), max_tokens: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe("context_length_exceeded");
    expect((err as BadRequestError).message).toMatch(/maximum context length is 256 tokens/);
  });

  it("with truncation auto, the oldest whole turns go and the answer says how many", async () => {
    const { data, response } = await client.chat.completions
      .create({ model: MODEL, messages: history(6), max_tokens: 16, truncation: "auto" } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    const dropped = Number(response.headers.get(DROPPED_HEADER));
    expect(dropped).toBeGreaterThan(0);
    expect(dropped % 2).toBe(0);
    const promptTokens = data.usage?.prompt_tokens ?? 0;
    expect(promptTokens + 16).toBeLessThanOrEqual(256);
    // The prompt was exactly the kept messages: sending only those, untrimmed, costs the same.
    const keptOnly = await client.chat.completions.create({ model: MODEL, messages: history(6).slice(dropped), max_tokens: 16 }).withResponse();
    expect(keptOnly.data.usage?.prompt_tokens).toBe(promptTokens);
    expect(keptOnly.response.headers.get(DROPPED_HEADER)).toBeNull();
    // And one more turn than that would not have fitted.
    const oneMore = await client.chat.completions.create({ model: MODEL, messages: history(6).slice(dropped - 2), max_tokens: 16 }).catch((e: unknown) => e);
    expect(oneMore).toBeInstanceOf(BadRequestError);
  });

  it("an answer that fits drops nothing and carries no header", async () => {
    const { response } = await client.chat.completions.create({ model: MODEL, messages: history(1), max_tokens: 16 }).withResponse();
    expect(response.headers.get(DROPPED_HEADER)).toBeNull();
  });

  it("a stored conversation trims itself and says so", async () => {
    const api = new ConversationApi(stack.url, stack.userKey);
    const conversation = await api.create({});
    let dropped: string | null = null;
    for (let i = 0; i < 8 && dropped === null; i++) {
      const turn = await api.send(conversation.id, { content: filler(i), max_tokens: 16 });
      dropped = turn.headers.get(DROPPED_HEADER);
    }
    expect(Number(dropped)).toBeGreaterThan(0);
  });
});

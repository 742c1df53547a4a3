import { describe, expect, it } from "vitest";
import { readChatChunk, readCompletionChunk, type ChunkContent } from "../../workers/upstream/chunk-readers.js";

const usage = { prompt_tokens: 12, completion_tokens: 3 };
const read = (texts: string[], finishReason: ChunkContent["finishReason"] = null, u: ChunkContent["usage"] = null): ChunkContent => ({ texts, finishReason, usage: u });

describe("readCompletionChunk (vLLM /v1/completions)", () => {
  it.each<[string, unknown, ChunkContent | null]>([
    ["a token", { choices: [{ text: "Hi", finish_reason: null }] }, read(["Hi"])],
    ["text absent reads as empty", { choices: [{ finish_reason: null }] }, read([""])],
    ["the finish reason length", { choices: [{ text: "", finish_reason: "length" }] }, read([""], "length")],
    ["any other finish reason is stop", { choices: [{ text: "", finish_reason: "eos" }] }, read([""], "stop")],
    ["usage without details", { choices: [], usage }, read([], null, { promptTokens: 12, completionTokens: 3, cachedTokens: 0 })],
    ["usage with cached tokens", { usage: { ...usage, prompt_tokens_details: { cached_tokens: 8 } } }, read([], null, { promptTokens: 12, completionTokens: 3, cachedTokens: 8 })],
    ["null details", { usage: { ...usage, prompt_tokens_details: null } }, read([], null, { promptTokens: 12, completionTokens: 3, cachedTokens: 0 })],
    ["extra fields ignored", { id: "x", object: "text_completion", choices: [{ index: 0, text: "a", logprobs: null }] }, read(["a"])],
    ["not an object", "data", null],
    ["null", null, null],
    ["choices not an array", { choices: {} }, null],
    ["a choice not an object", { choices: ["a"] }, null],
    ["text not a string", { choices: [{ text: 3 }] }, null],
    ["text null", { choices: [{ text: null }] }, null],
    ["finish reason not a string", { choices: [{ text: "", finish_reason: 1 }] }, null],
    ["usage missing a count", { usage: { prompt_tokens: 1 } }, null],
    ["cached tokens not a number", { usage: { ...usage, prompt_tokens_details: { cached_tokens: "8" } } }, null],
  ])("%s", (_name, json, expected) => {
    expect(readCompletionChunk(json)).toEqual(expected);
  });
});

describe("readChatChunk (OpenAI-compatible /chat/completions)", () => {
  it.each<[string, unknown, ChunkContent | null]>([
    ["a delta", { choices: [{ delta: { content: "Hi" }, finish_reason: null }] }, read(["Hi"])],
    ["role-only delta reads as empty", { choices: [{ delta: { role: "assistant" } }] }, read([""])],
    ["null content", { choices: [{ delta: { content: null } }] }, read([""])],
    ["null delta", { choices: [{ delta: null, finish_reason: "stop" }] }, read([""], "stop")],
    ["usage-only final chunk", { choices: [], usage }, read([], null, { promptTokens: 12, completionTokens: 3, cachedTokens: 0 })],
    ["delta not an object", { choices: [{ delta: "Hi" }] }, null],
    ["content not a string", { choices: [{ delta: { content: 1 } }] }, null],
  ])("%s", (_name, json, expected) => {
    expect(readChatChunk(json)).toEqual(expected);
  });
});

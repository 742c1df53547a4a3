import { describe, expect, it } from "vitest";
import { ModelEntries, poolModelIds } from "../../workers/models/model-config.js";
import { parseVars } from "../../workers/vars.js";

const vicuna = { id: "vicuna-13b-v1.5", template: "vicuna_v1.1", contextLength: 4096, defaultMaxTokens: 512 };
const gpt = { id: "gpt-4o", provider: "openai-compatible", baseUrl: "https://api.openai.com/v1", apiKeySecret: "OPENAI_API_KEY", contextLength: 128000 };

const parse = (entries: unknown) => parseVars(ModelEntries, entries, "MODELS");

describe("MODELS entries", () => {
  it("a pool model and a provider model", () => {
    const [pool, provider] = parse([vicuna, gpt]);
    expect(pool).toEqual(vicuna);
    // A provider's default max_tokens is filled in.
    expect(provider).toEqual({ ...gpt, defaultMaxTokens: 1024 });
  });

  it.each<{ name: string; entries: unknown; error: RegExp }>([
    { name: "a template the gateway does not render", entries: [{ ...vicuna, template: "zephyr" }], error: /0\.template/ },
    { name: "a tokenizer the gateway does not ship", entries: [{ ...vicuna, tokenizer: "tiktoken" }], error: /0\.tokenizer/ },
    { name: "a tokenizer that does not suit the template", entries: [{ ...vicuna, tokenizer: "mistral" }], error: /0\.tokenizer: .*vicuna_v1\.1.*mistral/ },
    { name: "ChatML on LLaMA's vocabulary (no <|im_start|> token)", entries: [{ ...vicuna, id: "hermes", template: "chatml", tokenizer: "llama" }], error: /0\.tokenizer/ },
    { name: "the same id twice", entries: [vicuna, vicuna], error: /1\.id: model 'vicuna-13b-v1\.5' is listed twice/ },
    { name: "an unknown field is a typo, not ignored", entries: [{ ...vicuna, contextLenght: 2048 }], error: /contextLenght/ },
    { name: "a provider without its key's secret name", entries: [{ ...gpt, apiKeySecret: undefined }], error: /0\.apiKeySecret/ },
    { name: "a provider key given instead of a secret name", entries: [{ ...gpt, apiKeySecret: "sk-live-123" }], error: /upper-case secret name/ },
    { name: "a provider URL that is not http(s)", entries: [{ ...gpt, baseUrl: "ftp://x/v1" }], error: /0\.baseUrl/ },
    { name: "an unknown provider protocol", entries: [{ ...gpt, provider: "anthropic" }], error: /0\.provider/ },
    { name: "no models at all", entries: [], error: /MODELS/ },
  ])("refused: $name", ({ entries, error }) => {
    expect(() => parse(entries)).toThrow(error);
  });

  it("ChatML with the Mistral vocabulary is accepted; the family's own tokenizer is the default", () => {
    expect(() => parse([{ id: "openhermes-2.5-mistral-7b", template: "chatml", contextLength: 8192, defaultMaxTokens: 512 }])).not.toThrow();
    expect(() => parse([{ id: "llama-2-7b-chat", template: "llama-2-chat", tokenizer: "llama", contextLength: 4096, defaultMaxTokens: 512 }])).not.toThrow();
  });

  it("poolModelIds lists only the pool models", () => {
    expect(poolModelIds(JSON.stringify([vicuna, gpt]))).toEqual(["vicuna-13b-v1.5"]);
    expect(poolModelIds("not json")).toEqual([]);
    expect(poolModelIds(undefined)).toEqual([]);
  });
});

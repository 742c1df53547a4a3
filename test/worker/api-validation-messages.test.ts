/**
 * Every validation failure says what was expected, through the real Worker: the exact message and
 * param for a table of bodies, on chat completions, conversation turns, conversation creation and
 * a query string. zod's generic wording ("Invalid input", "Too big", "Invalid option") never shows.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectOpenAIError, seedKey } from "./helpers.js";

const MODEL = "vicuna-13b-v1.5";
const HI = [{ role: "user", content: "hi" }];
const chat = (fields: Record<string, unknown>) => ({ model: MODEL, messages: HI, ...fields });

interface Row {
  name: string;
  body: unknown;
  param: string | null;
  message: string;
  code?: string;
}

const ZOD_WORDING = /Invalid input|Invalid option|Too big|Too small|Invalid key in record|received/;

const CHAT_ROWS: Row[] = [
  { name: "stop of numbers", body: chat({ stop: [1, 2] }), param: "stop", message: "Invalid value for 'stop': expected a string or an array of up to 4 non-empty strings" },
  {
    name: "content of a number",
    body: { model: MODEL, messages: [{ role: "user", content: 42 }] },
    param: "messages.0.content",
    message: `Invalid value for 'messages.0.content': expected a string or an array of text parts ({"type":"text","text":"…"})`,
  },
  {
    name: "a role the API does not have",
    body: { model: MODEL, messages: [{ role: "tool", content: "x" }] },
    param: "messages.0.role",
    message: "Invalid value for 'messages.0.role': expected one of the roles system, developer, user, assistant",
  },
  { name: "temperature of a string", body: chat({ temperature: "hot" }), param: "temperature", message: "Invalid value for 'temperature': expected a number, got a string" },
  { name: "temperature above 2", body: chat({ temperature: 5 }), param: "temperature", message: "Invalid value for 'temperature': expected a number at most 2, got 5" },
  { name: "top_p of 0", body: chat({ top_p: 0 }), param: "top_p", message: "Invalid value for 'top_p': expected a number greater than 0, got 0" },
  { name: "presence_penalty below -2", body: chat({ presence_penalty: -3 }), param: "presence_penalty", message: "Invalid value for 'presence_penalty': expected a number at least -2, got -3" },
  { name: "seed with a fraction", body: chat({ seed: 1.5 }), param: "seed", message: "Invalid value for 'seed': expected an integer, got 1.5" },
  { name: "logit_bias with a word as key", body: chat({ logit_bias: { hello: 1 } }), param: "logit_bias.hello", message: "Invalid value for 'logit_bias.hello': invalid key (expected token ids as keys)" },
  { name: "logit_bias above 100", body: chat({ logit_bias: { "42": 101 } }), param: "logit_bias.42", message: "Invalid value for 'logit_bias.42': expected a number at most 100, got 101" },
  { name: "top_logprobs above 20", body: chat({ top_logprobs: 21 }), param: "top_logprobs", message: "Invalid value for 'top_logprobs': expected a number at most 20, got 21" },
  { name: "truncation of a wrong word", body: chat({ truncation: "sometimes" }), param: "truncation", message: `Invalid value for 'truncation': expected one of "auto", "disabled", got a string` },
  { name: "n of 2", body: chat({ n: 2 }), param: "n", message: "Invalid value for 'n': expected 1, got 2" },
  { name: "max_tokens of 0", body: chat({ max_tokens: 0 }), param: "max_tokens", message: "Invalid value for 'max_tokens': expected a number at least 1, got 0" },
  { name: "stream of a string", body: chat({ stream: "yes" }), param: "stream", message: "Invalid value for 'stream': expected a boolean, got a string" },
  {
    name: "stream_options.include_usage of a string",
    body: chat({ stream_options: { include_usage: "yes" } }),
    param: "stream_options.include_usage",
    message: "Invalid value for 'stream_options.include_usage': expected a boolean, got a string",
  },
  { name: "messages of a string", body: { model: MODEL, messages: "hi" }, param: "messages", message: "Invalid value for 'messages': expected an array, got a string" },
  { name: "no messages", body: { model: MODEL, messages: [] }, param: "messages", message: "Invalid value for 'messages': expected a non-empty array" },
  { name: "model missing", body: { messages: HI }, param: "model", message: "Missing required parameter: 'model' (expected a string)." },
  { name: "an empty model", body: chat({ model: "" }), param: "model", message: "Invalid value for 'model': expected a non-empty string" },
  { name: "a body that is not an object", body: ["hi"], param: null, message: "Invalid request body: expected an object, got an array" },
  { name: "an unknown parameter", body: chat({ tools: [] }), param: "tools", message: "Unsupported parameter: tools. Remove it and try again.", code: "unsupported_parameter" },
];

let key: string;
let conversationId: string;
beforeAll(async () => {
  key = (await seedKey("user")).key;
  const created = await call("POST", "/v1/conversations", { key, body: {} });
  expect(created.status).toBe(201);
  conversationId = ((await created.json()) as { id: string }).id;
});

async function expectMessage(res: Response, row: Row): Promise<void> {
  const err = await expectOpenAIError(res, 400, row.code ?? "invalid_value");
  expect(err.message).toBe(row.message);
  expect(err.param).toBe(row.param);
  expect(err.message).not.toMatch(ZOD_WORDING);
}

describe("POST /v1/chat/completions: what was expected", () => {
  it.each(CHAT_ROWS)("$name", async (row) => {
    await expectMessage(await call("POST", "/v1/chat/completions", { key, body: row.body }), row);
  });
});

describe("the same sampling fields on a conversation turn", () => {
  it.each<Row>([
    { name: "stop of numbers", body: { content: "hi", stop: [1, 2] }, param: "stop", message: "Invalid value for 'stop': expected a string or an array of up to 4 non-empty strings" },
    { name: "frequency_penalty of a string", body: { content: "hi", frequency_penalty: "high" }, param: "frequency_penalty", message: "Invalid value for 'frequency_penalty': expected a number, got a string" },
    { name: "no content", body: {}, param: "content", message: "Missing required parameter: 'content' (expected a string)." },
    { name: "empty content", body: { content: "" }, param: "content", message: "Invalid value for 'content': expected a non-empty string" },
  ])("$name", async (row) => {
    await expectMessage(await call("POST", `/v1/conversations/${conversationId}/messages`, { key, body: row.body }), row);
  });
});

describe("other bodies and queries", () => {
  it("conversation metadata values must be strings", async () => {
    const res = await call("POST", "/v1/conversations", { key, body: { metadata: { tier: 1 } } });
    await expectMessage(res, { name: "", body: null, param: "metadata.tier", message: "Invalid value for 'metadata.tier': expected a string, got 1" });
  });

  it("a list limit above 100", async () => {
    const res = await call("GET", "/v1/conversations?limit=500", { key });
    await expectMessage(res, { name: "", body: null, param: "limit", message: "Invalid value for 'limit': expected a number at most 100, got 500" });
  });
});

import { describe, expect, it } from "vitest";
import { call, expectOpenAIError, seedKey } from "./helpers.js";

describe("authentication", () => {
  it.each([
    ["no header", null, undefined],
    ["a wrong key", "sk-alt-not-a-key", undefined],
    ["a non-bearer scheme", null, { authorization: "Basic abc" }],
  ])("rejects %s with 401 in the OpenAI shape", async (_name, key, headers) => {
    const res = await call("GET", "/v1/models", { key, headers });
    const err = await expectOpenAIError(res, 401, "invalid_api_key");
    expect(err.type).toBe("authentication_error");
  });

  it("accepts the bootstrap admin key and a created user key", async () => {
    expect((await call("GET", "/v1/models")).status).toBe(200);
    const { key } = await seedKey("user");
    const res = await call("GET", "/v1/models", { key });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ object: "list", data: [{ id: "vicuna-13b-v1.5", object: "model" }] });
  });
});

describe("admin keys", () => {
  it("creates a key whose plaintext is shown once and works at once", async () => {
    const res = await call("POST", "/admin/keys", { body: { name: "alice", role: "user" } });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; key: string; prefix: string; role: string };
    expect(created.key).toMatch(/^sk-alt-[A-Za-z0-9_-]{32}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.role).toBe("user");
    expect((await call("GET", "/v1/models", { key: created.key })).status).toBe(200);

    const list = (await (await call("GET", "/admin/keys")).json()) as { data: Array<Record<string, unknown>> };
    const listed = list.data.find((k) => k.id === created.id);
    expect(listed).toMatchObject({ name: "alice", role: "user", prefix: created.prefix, revoked_at: null });
    expect(JSON.stringify(list)).not.toContain(created.key);
  });

  it("revokes a key, effective at once in the revoking isolate", async () => {
    const created = (await (await call("POST", "/admin/keys", { body: { name: "bob", role: "bot" } })).json()) as { id: string; key: string };
    expect((await call("GET", "/v1/models", { key: created.key })).status).toBe(200);
    const revoked = await call("DELETE", `/admin/keys/${created.id}`);
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revoked_at: number | null }).revoked_at).toBeTypeOf("number");
    await expectOpenAIError(await call("GET", "/v1/models", { key: created.key }), 401, "invalid_api_key");
  });

  it("answers 404 for revoking an unknown key", async () => {
    await expectOpenAIError(await call("DELETE", "/admin/keys/key_nope"), 404, "not_found");
  });

  it.each(["user", "bot"] as const)("refuses admin routes to a %s key with 403", async (role) => {
    const { key } = await seedKey(role);
    const err = await expectOpenAIError(await call("GET", "/admin/keys", { key }), 403, "forbidden");
    expect(err.type).toBe("permission_error");
  });

  it.each([
    ["a missing name", { role: "user" }, "invalid_value", "name"],
    ["an unknown role", { name: "x", role: "root" }, "invalid_value", "role"],
    ["an unknown field", { name: "x", role: "user", scope: "all" }, "unsupported_parameter", "scope"],
  ])("rejects %s with 400 naming the field", async (_name, body, code, param) => {
    const err = await expectOpenAIError(await call("POST", "/admin/keys", { body }), 400, code);
    expect(err.param).toBe(param);
  });
});

describe("request bodies", () => {
  it("rejects a non-JSON content type with 415", async () => {
    await expectOpenAIError(await call("POST", "/v1/chat/completions", { rawBody: "hi", headers: { "content-type": "text/plain" } }), 415, "unsupported_media_type");
  });

  it("rejects malformed JSON with 400", async () => {
    await expectOpenAIError(await call("POST", "/v1/chat/completions", { rawBody: "{nope", headers: { "content-type": "application/json" } }), 400, "invalid_json");
  });

  it("rejects a body over the size limit with 413", async () => {
    const big = "x".repeat(1_100_000);
    await expectOpenAIError(
      await call("POST", "/v1/chat/completions", { body: { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: big }] } }),
      413,
      "payload_too_large",
    );
  });

  it("names unsupported chat parameters", async () => {
    const err = await expectOpenAIError(
      await call("POST", "/v1/chat/completions", { body: { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }], tools: [], parallel_tool_calls: true } }),
      400,
      "unsupported_parameter",
    );
    expect(err.message).toContain("tools");
    expect(err.message).toContain("parallel_tool_calls");
  });

  it("refuses by name a known parameter it cannot honour: log probabilities", async () => {
    const err = await expectOpenAIError(
      await call("POST", "/v1/chat/completions", { body: { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }], logprobs: true } }),
      400,
      "unsupported_parameter",
    );
    expect(err.param).toBe("logprobs");
    expect(err.message).toMatch(/logprobs is not supported/);
  });

  it.each([
    ["an unknown model", { model: "gpt-9", messages: [{ role: "user", content: "hi" }] }, 404, "model_not_found"],
    ["no messages", { model: "vicuna-13b-v1.5", messages: [] }, 400, "invalid_value"],
    ["a bad role", { model: "vicuna-13b-v1.5", messages: [{ role: "tool", content: "hi" }] }, 400, "invalid_value"],
    ["temperature out of range", { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }], temperature: 3 }, 400, "invalid_value"],
    ["an assistant last message", { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }] }, 400, "invalid_conversation"],
    ["max_tokens beyond the window", { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }], max_tokens: 5000 }, 400, "context_length_exceeded"],
  ])("rejects %s", async (_name, body, status, code) => {
    await expectOpenAIError(await call("POST", "/v1/chat/completions", { body }), status, code);
  });

  it("answers 503 no_workers when no GPU worker serves the model", async () => {
    const err = await expectOpenAIError(
      await call("POST", "/v1/chat/completions", { body: { model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }] } }),
      503,
      "no_workers",
    );
    expect(err.message).toContain("vicuna-13b-v1.5");
  });
});

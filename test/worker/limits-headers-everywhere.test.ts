/**
 * x-ratelimit-* on every /v1 response, not only on generations: reading a conversation, listing
 * models or a 404 shows the caller's remaining allowance, and looking costs nothing.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admitRequest } from "../../workers/limits/client.js";
import { effectiveLimits } from "../../workers/limits/config.js";
import { call } from "./helpers.js";

async function createKey(role: "user" | "bot", limits: Record<string, unknown>): Promise<{ id: string; key: string; storedLimits: string }> {
  const res = await call("POST", "/admin/keys", { body: { name: `headers-${role}`, role, limits } });
  expect(res.status).toBe(201);
  const created = (await res.json()) as { id: string; key: string };
  const row = await env.DB.prepare("SELECT limits FROM api_keys WHERE id = ?1").bind(created.id).first<{ limits: string }>();
  return { ...created, storedLimits: row?.limits ?? "" };
}

const trio = (res: Response) => ({
  limitRequests: res.headers.get("x-ratelimit-limit-requests"),
  remainingRequests: res.headers.get("x-ratelimit-remaining-requests"),
  limitTokens: res.headers.get("x-ratelimit-limit-tokens"),
  remainingTokens: res.headers.get("x-ratelimit-remaining-tokens"),
});

describe("x-ratelimit-* on responses that generate nothing", () => {
  it("show what the key's generations have used, and reading them uses nothing", async () => {
    const { id, key, storedLimits } = await createKey("user", { requests_per_minute: 10, tokens_per_minute: 5_000, tokens_per_day: 1_000 });
    // One generation's admission, as the chat routes make it: 1 request and 16 tokens.
    const admitted = await admitRequest(env, { keyId: id, limits: effectiveLimits(env, storedLimits), estimatedTokens: 16, requestId: "gen-1" });
    expect(admitted.ok).toBe(true);

    for (const path of ["/v1/models", "/v1/conversations", "/v1/usage", "/v1/models", "/v1/conversations/conv_nope"]) {
      const res = await call("GET", path, { key });
      expect(trio(res), path).toEqual({ limitRequests: "10", remainingRequests: "9", limitTokens: "1000", remainingTokens: "984" });
      expect(res.headers.get("x-ratelimit-reset-requests"), path).toMatch(/^\d+(\.\d+)?s$/);
    }
  });

  it("are on a client error before any admission (a 400 body)", async () => {
    const { key } = await createKey("user", { requests_per_minute: 7 });
    const res = await call("POST", "/v1/chat/completions", { key, body: { messages: "not a list" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("7");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("7");
  });

  it("for a bot key's end user named in ?user=, are the tighter of key and end user", async () => {
    const { key } = await createKey("bot", { requests_per_minute: 100, end_user: { requests_per_minute: 3 } });
    const forUser = await call("GET", "/v1/conversations?user=discord-42", { key });
    expect(forUser.status).toBe(200);
    expect(forUser.headers.get("x-ratelimit-limit-requests")).toBe("3");
    const forKey = await call("GET", "/v1/conversations", { key });
    expect(forKey.headers.get("x-ratelimit-limit-requests")).toBe("100");
  });

  it("are absent when the caller is unknown", async () => {
    const res = await call("GET", "/v1/models", { key: "sk-alt-not-a-key" });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
  });
});

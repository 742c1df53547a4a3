import { describe, expect, it } from "vitest";
import { InteractionWebhook, WebhookError } from "../../workers/discord/webhook-client.js";

/**
 * The interaction webhook client against a scripted Discord (injected fetch, clock and sleep):
 * 429s are waited out for retry_after, a 404 before the deferred message exists is asked again,
 * and nothing is sent once the token is dead.
 */
interface Scripted {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function scripted(replies: Scripted[]) {
  const calls: Array<{ method: string; url: string; at: number }> = [];
  let now = 1_000_000;
  const sleeps: number[] = [];
  const webhook = (expiresInMs = 900_000) =>
    new InteractionWebhook({
      apiBase: "https://discord.test/api/v10",
      applicationId: "42",
      token: "tok",
      expiresAtMs: now + expiresInMs,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      fetch: async (input, init) => {
        calls.push({ method: init?.method ?? "GET", url: String(input), at: now });
        const reply = replies.shift();
        if (!reply) throw new Error("no scripted reply left");
        return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
      },
    });
  return { calls, sleeps, webhook, advance: (ms: number) => (now += ms) };
}

describe("InteractionWebhook", () => {
  it("edits the original message and posts follow-ups at Discord's webhook paths, pinging nobody", async () => {
    const s = scripted([
      { status: 200, body: { id: "m1" } },
      { status: 200, body: { id: "m2" } },
      { status: 200, body: { id: "m2" } },
    ]);
    const w = s.webhook();
    expect(await w.editOriginal({ content: "a" })).toBe("m1");
    expect(await w.followUp({ content: "b" })).toBe("m2");
    expect(await w.editFollowUp("m2", { content: "c" })).toBe("m2");
    expect(s.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      "PATCH https://discord.test/api/v10/webhooks/42/tok/messages/@original",
      "POST https://discord.test/api/v10/webhooks/42/tok?wait=true",
      "PATCH https://discord.test/api/v10/webhooks/42/tok/messages/m2",
    ]);
  });

  it("waits out a 429 for its retry_after, then sends the same edit again", async () => {
    const s = scripted([
      { status: 429, body: { message: "You are being rate limited.", retry_after: 2.5, global: false }, headers: { "retry-after": "3" } },
      { status: 200, body: { id: "m1" } },
    ]);
    expect(await s.webhook().editOriginal({ content: "a" })).toBe("m1");
    expect(s.sleeps).toEqual([2500]);
    expect(s.calls[1]!.at - s.calls[0]!.at).toBe(2500);
  });

  it("asks again after a 404 in the first seconds (the deferred message not made yet), not later", async () => {
    const early = scripted([
      { status: 404, body: { message: "Unknown Webhook" } },
      { status: 200, body: { id: "m1" } },
    ]);
    expect(await early.webhook().editOriginal({ content: "a" })).toBe("m1");
    const late = scripted([{ status: 404, body: { message: "Unknown Message" } }]);
    const w = late.webhook();
    late.advance(10_000);
    await expect(w.editOriginal({ content: "a" })).rejects.toMatchObject({ status: 404 });
  });

  it("gives up on a wait that would outlive the token, and sends nothing once it is dead", async () => {
    const s = scripted([{ status: 429, body: { retry_after: 60 } }]);
    await expect(s.webhook(30_000).editOriginal({ content: "a" })).rejects.toBeInstanceOf(WebhookError);
    expect(s.sleeps).toEqual([]);
    const dead = scripted([]);
    const w = dead.webhook(1_000);
    dead.advance(1_000);
    await expect(w.editOriginal({ content: "a" })).rejects.toThrow(/expired/);
    expect(dead.calls).toEqual([]);
  });

  it("throws other failures with Discord's status", async () => {
    const s = scripted([{ status: 400, body: { message: "Invalid Form Body", code: 50035 } }]);
    await expect(s.webhook().followUp({ content: "" })).rejects.toMatchObject({ status: 400 });
  });
});

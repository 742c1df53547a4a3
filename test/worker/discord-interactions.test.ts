import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CONSENT_WHERE_WORDS } from "../../discord/consent.js";
import type { Env } from "../../workers/env.js";
import app from "../../workers/index.js";
import { BASE, expectOpenAIError, seedKey } from "./helpers.js";
import { newSigningKey, sign, type SigningKey } from "./discord-signing.js";

/**
 * POST /discord/interactions through the real Worker: signature checks before anything else,
 * PING → PONG, and the answers given at once (no job). Commands that run (deferred and edited in)
 * are tested end to end against the loopback fake Discord (test/e2e/discord-interactions.test.ts).
 */
const APP_ID = "100000000000000001";

async function post(vars: Partial<Env>, body: string, headers: Record<string, string>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}/discord/interactions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

async function signed(key: SigningKey, payload: unknown, at = Math.floor(Date.now() / 1000)): Promise<{ body: string; headers: Record<string, string> }> {
  const body = JSON.stringify(payload);
  const timestamp = String(at);
  return { body, headers: { "x-signature-ed25519": await sign(key, timestamp, body), "x-signature-timestamp": timestamp } };
}

function command(name: string, options: Record<string, string> = {}, channel = { id: "300000000000000001", type: 0 }) {
  return {
    type: 2,
    id: "400000000000000001",
    application_id: APP_ID,
    token: "interaction-token",
    guild_id: "500000000000000001",
    channel_id: channel.id,
    channel,
    member: { user: { id: "600000000000000001" } },
    data: { name, options: Object.entries(options).map(([n, value]) => ({ name: n, type: 3, value })) },
  };
}

describe("POST /discord/interactions", async () => {
  const key = await newSigningKey();
  const { id: keyId } = await seedKey("bot");
  const vars = { DISCORD_PUBLIC_KEY: key.publicKeyHex, DISCORD_APPLICATION_ID: APP_ID, DISCORD_KEY_ID: keyId };

  it("answers a signed PING with PONG", async () => {
    const req = await signed(key, { type: 1, id: "1", application_id: APP_ID, token: "t", version: 1 });
    const res = await post(vars, req.body, req.headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it("refuses a PING signed by another key, unsigned, altered or stale with 401", async () => {
    const other = await newSigningKey();
    const ping = { type: 1, id: "1", application_id: APP_ID, token: "t" };
    const wrongKey = await signed(other, ping);
    await expectOpenAIError(await post(vars, wrongKey.body, wrongKey.headers), 401, "invalid_signature");
    await expectOpenAIError(await post(vars, JSON.stringify(ping), {}), 401, "invalid_signature");
    const good = await signed(key, ping);
    await expectOpenAIError(await post(vars, good.body.replace('"type":1', '"type":2'), good.headers), 401, "invalid_signature");
    const stale = await signed(key, ping, Math.floor(Date.now() / 1000) - 3600);
    const res = await post(vars, stale.body, stale.headers);
    expect((await expectOpenAIError(res, 401, "invalid_signature")).message).toMatch(/too old/);
  });

  it("changes nothing for a command with a bad signature: no job, no deferred answer", async () => {
    const req = await signed(await newSigningKey(), command("usage"));
    await expectOpenAIError(await post(vars, req.body, req.headers), 401, "invalid_signature");
    const stub = env.DISCORD_JOBS.get(env.DISCORD_JOBS.idFromName("400000000000000001"));
    const stored = await runInDurableObject(stub, async (_instance, state) => state.storage.get("job"));
    expect(stored).toBeUndefined();
  });

  it("is 404 when DISCORD_PUBLIC_KEY is not set, and 503 naming what is missing when incomplete", async () => {
    const req = await signed(key, { type: 1 });
    await expectOpenAIError(await post({ DISCORD_PUBLIC_KEY: "" }, req.body, req.headers), 404, "discord_interactions_off");
    const res = await post({ DISCORD_PUBLIC_KEY: key.publicKeyHex, DISCORD_APPLICATION_ID: APP_ID, DISCORD_KEY_ID: "" }, req.body, req.headers);
    expect((await expectOpenAIError(res, 503, "discord_not_configured")).message).toContain("DISCORD_KEY_ID");
  });

  it("refuses a body far larger than any interaction with 413, before checking it", async () => {
    const req = await signed(key, { type: 1, padding: "x".repeat(70_000) });
    await expectOpenAIError(await post(vars, req.body, req.headers), 413, "payload_too_large");
  });

  it("answers a signed body that is not an interaction with 400", async () => {
    const req = await signed(key, { hello: "world" });
    await expectOpenAIError(await post(vars, req.body, req.headers), 400, "invalid_interaction");
  });

  it("answers /reset outside a thread or DM at once, only to the member, with the bot's words", async () => {
    const req = await signed(key, command("reset"));
    const res = await post(vars, req.body, req.headers);
    expect(await res.json()).toEqual({
      type: 4,
      data: {
        content: "Use /reset inside one of my threads or in our DM. In a channel, mention me or use /chat to start a fresh thread.",
        flags: 64,
        allowed_mentions: { parse: [] },
      },
    });
  });

  it("applies the bot's access settings: another guild, a channel not listed, DMs off", async () => {
    const run = async (extra: Partial<Env>, payload: unknown) => {
      const req = await signed(key, payload);
      return (await (await post({ ...vars, ...extra }, req.body, req.headers)).json()) as { type: number; data?: { content: string; flags: number } };
    };
    expect(await run({ DISCORD_ALLOWED_GUILDS: "1,2" }, command("usage"))).toMatchObject({ type: 4, data: { content: "I'm not enabled on this server.", flags: 64 } });
    const otherChannel = await run({ DISCORD_ALLOWED_CHANNELS: "999" }, command("usage"));
    expect(otherChannel.data?.content).toMatch(/^I'm not enabled in this channel/);
    const dm = { ...command("usage", {}, { id: "300000000000000002", type: 1 }), guild_id: undefined, member: undefined, user: { id: "600000000000000001" } };
    expect((await run({ DISCORD_ALLOW_DMS: "false" }, dm)).data?.content).toBe("I don't answer direct messages here. Mention me in a server channel instead.");
    // Allowed: the command goes on to its own answer (here /reset's, outside a thread).
    expect((await run({ DISCORD_ALLOWED_CHANNELS: "300000000000000001", DISCORD_ALLOWED_GUILDS: "500000000000000001" }, command("reset"))).data?.content).toMatch(/^Use \/reset inside/);
  });

  it("answers /share-data outside a thread or DM at once with the bot's words", async () => {
    const req = await signed(key, command("share-data"));
    const body = (await (await post(vars, req.body, req.headers)).json()) as { type: number; data: { content: string; flags: number } };
    expect(body).toEqual({ type: 4, data: { content: CONSENT_WHERE_WORDS, flags: 64, allowed_mentions: { parse: [] } } });
  });

  it("answers an unknown command with the bot's words", async () => {
    const req = await signed(key, command("dance"));
    const body = (await (await post(vars, req.body, req.headers)).json()) as { type: number; data: { content: string } };
    expect(body.type).toBe(4);
    expect(body.data.content).toBe("I don't know that command.");
  });

  it("refuses a vote button pressed by someone other than the asker, naming who may vote", async () => {
    const press = { ...command("x"), type: 3, data: { custom_id: "altiplano:arena:a:700000000000000001:battle_abc", component_type: 2 }, message: { id: "800000000000000001" } };
    const req = await signed(key, press);
    const body = (await (await post(vars, req.body, req.headers)).json()) as { type: number; data: { content: string; flags: number } };
    expect(body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(body.data.content).toContain("Only <@700000000000000001> can vote on this battle");
  });
});

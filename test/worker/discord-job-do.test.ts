import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../workers/env.js";
import { DiscordInteractionJob } from "../../workers/discord/interaction-job-do.js";
import type { InteractionJob } from "../../workers/discord/interaction.js";
import { seedKey } from "./helpers.js";
import { newSigningKey } from "./discord-signing.js";

/**
 * The job's Durable Object run by hand (its alarm called directly) against a scripted Discord:
 * Discord's webhook answers come from a replaced global fetch for the length of one alarm, since
 * nothing else listens inside workerd. What the end-to-end test cannot cause — an alarm retried
 * after a run died mid-way — must not run the turn twice.
 */
const API = "https://discord.test/api/v10";

async function runAlarm(vars: Partial<Env>, job: InteractionJob, before?: (storage: DurableObjectStorage) => Promise<void>) {
  const stub = env.DISCORD_JOBS.get(env.DISCORD_JOBS.idFromName(`test-${job.interactionId}`));
  return runInDurableObject(stub, async (_instance, state) => {
    await state.storage.put("job", job);
    await before?.(state.storage);
    const calls: Array<{ method: string; url: string; content: unknown }> = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : null;
      calls.push({ method: init?.method ?? "GET", url: String(input), content: (body as { content?: unknown } | null)?.content });
      return Response.json({ id: "900000000000000001" });
    };
    try {
      await new DiscordInteractionJob(state, { ...env, ...vars }).alarm();
    } finally {
      globalThis.fetch = realFetch;
    }
    return { calls, left: await state.storage.list() };
  });
}

describe("DiscordInteractionJob", async () => {
  const signing = await newSigningKey();
  const { id: botKeyId } = await seedKey("bot");
  const { id: userKeyId } = await seedKey("user");
  const vars = (keyId: string): Partial<Env> => ({ DISCORD_PUBLIC_KEY: signing.publicKeyHex, DISCORD_APPLICATION_ID: "42", DISCORD_KEY_ID: keyId, DISCORD_API_BASE: API });
  let seq = 0;
  const job = (command: InteractionJob["command"]): InteractionJob => ({
    interactionId: String(700000000000000000 + ++seq),
    token: `tok${seq}`,
    receivedAtMs: Date.now(),
    userId: "600000000000000009",
    channelId: "300000000000000009",
    place: "dm",
    command,
  });

  it("runs /usage in-process as the bot key's end user and edits the answer into the original message, then forgets the job", async () => {
    const j = job({ name: "usage" });
    const { calls, left } = await runAlarm(vars(botKeyId), j);
    expect(calls).toEqual([{ method: "PATCH", url: `${API}/webhooks/42/${j.token}/messages/@original`, content: expect.stringMatching(/^Your usage:\n/) }]);
    expect(left.size).toBe(0);
  });

  it("does not run a job twice: a retried alarm of a job that had started says it was interrupted", async () => {
    const j = job({ name: "chat", prompt: "hello", model: null });
    const { calls, left } = await runAlarm(vars(botKeyId), j, (storage) => storage.put("started", true));
    expect(calls).toEqual([{ method: "PATCH", url: `${API}/webhooks/42/${j.token}/messages/@original`, content: "-# ⚠ interrupted because the server restarted. Send your command again." }]);
    expect(left.size).toBe(0);
  });

  it("says so in the message when DISCORD_KEY_ID is not a bot-role key", async () => {
    const j = job({ name: "usage" });
    const { calls } = await runAlarm(vars(userKeyId), j);
    expect(calls.map((c) => c.content)).toEqual(["I'm not allowed to use the chat service right now. Please tell the server admins."]);
  });
});

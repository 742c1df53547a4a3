/**
 * DiscordInteractionJob: one Durable Object per deferred command, so a generation outlives the
 * Worker invocation that acknowledged it (waitUntil gives about 30 s). The route stores the job
 * here and sets an alarm before it answers Discord; the alarm runs the command to its end, editing
 * the message until the interaction's token runs out (15 minutes, also the longest an alarm runs).
 *
 * An alarm that died mid-run (the object was evicted or the runtime restarted) is retried by the
 * runtime; the job is then marked as started, and is not run twice — a second turn would store a
 * second user message — but ends the message with the words the bot uses for an interrupted reply.
 */
import { DurableObject } from "cloudflare:workers";
import type { ExecutionContext } from "hono";
import type { Env } from "../env.js";
import { botKeyCaller } from "./bot-key-caller.js";
import { getDiscordConfig } from "./discord-config.js";
import { InProcessGateway } from "./in-process-gateway.js";
import { InteractionJob } from "./interaction.js";
import { runCommand } from "./run-command.js";
import { InteractionWebhook } from "./webhook-client.js";

/** How long an interaction token lives (Discord). */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;
/** Edits are stopped this long before the token dies, so the last one still lands. */
const TOKEN_MARGIN_MS = 5_000;

const JOB_KEY = "job";
const STARTED_KEY = "started";

const INTERRUPTED_WORDS = "-# ⚠ interrupted because the server restarted. Send your command again.";
const KEY_UNAVAILABLE_WORDS = "I'm not allowed to use the chat service right now. Please tell the server admins.";

export class DiscordInteractionJob extends DurableObject<Env> {
  /** Stores the job and schedules it at once; resolves when it is durable. A repeat delivery of the same interaction changes nothing. */
  async enqueue(job: InteractionJob): Promise<void> {
    if ((await this.ctx.storage.get(JOB_KEY)) !== undefined) return;
    await this.ctx.storage.put(JOB_KEY, InteractionJob.parse(job));
    await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    const parsed = InteractionJob.safeParse(await this.ctx.storage.get(JOB_KEY));
    if (!parsed.success) {
      await this.ctx.storage.deleteAll();
      return;
    }
    const job = parsed.data;
    const state = getDiscordConfig(this.env);
    if (state.kind !== "on") {
      console.error("discord: a job ran while Discord interactions are not configured; dropped");
      await this.ctx.storage.deleteAll();
      return;
    }
    const config = state.config;
    const webhook = new InteractionWebhook({
      apiBase: config.apiBase,
      applicationId: config.applicationId,
      token: job.token,
      expiresAtMs: job.receivedAtMs + INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS,
      onRateLimited: (ms) => console.log(`discord: rate limited on a webhook call, waiting ${ms} ms`),
    });
    const pending: Promise<unknown>[] = [];
    try {
      if ((await this.ctx.storage.get(STARTED_KEY)) === true) {
        await webhook.editOriginal({ content: INTERRUPTED_WORDS });
        return;
      }
      await this.ctx.storage.put(STARTED_KEY, true);
      const caller = await botKeyCaller(this.env, config.keyId);
      if (!caller) {
        console.error(`discord: DISCORD_KEY_ID '${config.keyId}' is not an active bot-role key`);
        await webhook.editOriginal({ content: KEY_UNAVAILABLE_WORDS });
        return;
      }
      // The gateway's routes hand background work (settlement, usage, metrics) to waitUntil; the
      // alarm waits for it too, so nothing is cut off when it returns.
      const ctx: ExecutionContext = {
        waitUntil: (p) => void pending.push(p.catch((e: unknown) => console.error("discord: background work failed", e))),
        passThroughOnException: () => undefined,
        props: {},
      };
      await runCommand({ gateway: new InProcessGateway({ env: this.env, ctx, caller }), webhook, config }, job);
    } catch (error) {
      // runCommand turns failures into words itself; here only the webhook itself failed.
      console.error(`discord: job for interaction ${job.interactionId} failed`, error);
    } finally {
      await Promise.all(pending);
      await this.ctx.storage.deleteAll();
    }
  }
}

/**
 * Runs turns against the gateway and streams them into Discord: one at a time per channel (the
 * gateway answers 409 to a second concurrent turn), each stoppable by its channel's Stop button
 * and by shutdown.
 */
import type { SendableChannels } from "discord.js";
import type { BotConfig } from "./config.js";
import type { ConversationKey } from "../discord/conversation-key.js";
import { errorToWords } from "../discord/errors-to-words.js";
import type { FeedbackRecorder, ReplyTracking } from "./feedback-recorder.js";
import type { GatewayClient, TurnStream } from "./gateway-client.js";
import type { Logger } from "./logger.js";
import type { BotMetrics } from "./metrics.js";
import { StreamRenderer } from "./stream-renderer.js";

/** Why a generation was aborted. */
export type AbortReason = "stop" | "shutdown";

/** A turn to run: a new user message, or a regeneration of the last answer. */
export interface TurnRequest {
  channel: SendableChannels;
  key: ConversationKey;
  /** Discord user id of the person asking (the gateway's end user). */
  userId: string;
  kind: { type: "message"; content: string; model?: string } | { type: "regenerate" };
}

interface InFlight {
  controller: AbortController;
}

export interface TurnRunnerDeps {
  gateway: GatewayClient;
  config: BotConfig;
  logger: Logger;
  /** Remembers which Discord messages show which assistant message, for reactions as feedback. */
  feedback?: FeedbackRecorder;
  /** Counts outcomes and first-edit times (fixed memory, however many turns run). */
  metrics: BotMetrics;
}

/** Serialises turns per channel and tracks the running ones. */
export class TurnRunner {
  readonly #deps: TurnRunnerDeps;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #inFlight = new Map<string, InFlight>();

  constructor(deps: TurnRunnerDeps) {
    this.#deps = deps;
  }

  /** How many generations are running now. */
  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  /** Queues a turn behind any other in the same channel; resolves when it has been shown. */
  run(req: TurnRequest): Promise<void> {
    const channelId = req.channel.id;
    const previous = this.#queues.get(channelId) ?? Promise.resolve();
    const next = previous.then(() => this.#runNow(req));
    const tail = next.catch(() => undefined);
    this.#queues.set(channelId, tail);
    void tail.then(() => {
      if (this.#queues.get(channelId) === tail) this.#queues.delete(channelId);
    });
    return next;
  }

  /** Stops the generation running in `channelId`; false if none is. */
  stop(channelId: string): boolean {
    const running = this.#inFlight.get(channelId);
    if (!running) return false;
    running.controller.abort("stop" satisfies AbortReason);
    return true;
  }

  /** Whether a generation is running in `channelId`. */
  isRunning(channelId: string): boolean {
    return this.#inFlight.has(channelId);
  }

  /** Waits up to `graceMs` for running turns, then aborts the rest and waits for them to be marked. */
  async drain(graceMs: number): Promise<void> {
    const all = () => Promise.all([...this.#queues.values()]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), graceMs)));
    const result = await Promise.race([all().then(() => "done" as const), timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      for (const f of this.#inFlight.values()) f.controller.abort("shutdown" satisfies AbortReason);
      await all();
    }
  }

  async #runNow(req: TurnRequest): Promise<void> {
    const { gateway, config, logger, feedback, metrics } = this.#deps;
    const controller = new AbortController();
    this.#inFlight.set(req.channel.id, { controller });
    // Set once the gateway named the assistant message; replies that never got one (refused turns) are not tracked.
    let tracking: ReplyTracking | null = null;
    const renderer = new StreamRenderer({
      channel: req.channel,
      editIntervalMs: config.editIntervalMs,
      logger,
      onFirstVisible: (ms) => {
        metrics.firstEdit(ms);
        logger.info("first text visible", { channel: req.channel.id, first_token_to_first_visible_ms: Math.round(ms) });
      },
      onMessageSent: (id) => tracking?.addMessage(id),
    });
    renderer.startTyping();
    try {
      const conversation = await gateway.ensureConversation({
        external_id: req.key.externalId,
        ...(req.key.owner ? { user: req.key.owner } : {}),
        ...(req.kind.type === "message" && req.kind.model ? { model: req.kind.model } : {}),
        ...(config.systemPrompt ? { system_prompt: config.systemPrompt } : {}),
        metadata: { source: "discord", channel_id: req.channel.id },
      });
      const sampling = { user: req.userId, stream: true, ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}) };
      const stream: TurnStream =
        req.kind.type === "message"
          ? await gateway.sendTurn({ conversationId: conversation.id, body: { content: req.kind.content, ...sampling }, signal: controller.signal })
          : await gateway.regenerate({ conversationId: conversation.id, body: sampling, signal: controller.signal });
      renderer.setAssistantMessageId(stream.assistantMessageId);
      if (feedback && stream.assistantMessageId) {
        tracking = feedback.trackReply({ conversationId: stream.conversationId ?? conversation.id, assistantMessageId: stream.assistantMessageId });
      }
      let finishReason = "stop";
      for await (const event of stream.events) {
        if (event.kind === "delta") renderer.append(event.text);
        else finishReason = event.reason;
      }
      const outcome = finishReason === "length" ? "length" : "complete";
      metrics.turnFinished(outcome);
      await renderer.finish({ kind: outcome });
    } catch (error) {
      if (controller.signal.aborted) {
        const outcome = controller.signal.reason === "shutdown" ? "interrupted" : "stopped";
        metrics.turnFinished(outcome);
        await renderer.finish({ kind: outcome });
      } else {
        logger.warn("turn failed", error);
        metrics.turnFinished("failed");
        await renderer.finish({ kind: "failed", words: errorToWords(error) });
      }
    } finally {
      this.#inFlight.delete(req.channel.id);
      tracking?.end();
    }
  }
}

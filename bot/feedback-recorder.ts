/**
 * Records 👍 / 👎 reactions on the bot's replies as the reacting user's feedback on the gateway's
 * assistant message. Remembers which Discord messages show which assistant message for the most
 * recent MAX_TRACKED_DISCORD_MESSAGES Discord messages (least recently written or reacted to are
 * forgotten first); reactions on messages it does not remember — older ones, and everything
 * written before the bot last started — are ignored.
 *
 * Per user and reply, calls go out one at a time and always send the latest wanted rating, so a
 * quick 👍 then 👎 ends as down whatever the network does. A failed call is logged, never shown in
 * Discord; the next reaction of that user on that reply sends the wanted rating again.
 */
import type { Rating } from "../wire/conversations.js";
import { backoffDelayMs } from "./backoff.js";
import { GatewayCallError } from "../discord/gateway-error.js";
import type { Logger } from "./logger.js";
import { BoundedLru } from "./lru.js";
import { applyThumbChange, ratingOf, retryNotFound, type ShownThumb } from "./reaction-rating.js";

/**
 * Discord messages remembered. A reply is one message per 2000 characters, so this covers the
 * latest several thousand replies; each entry is a few hundred bytes (a few MB at most).
 */
export const MAX_TRACKED_DISCORD_MESSAGES = 10_000;
/** Users whose reactions are followed per reply (beyond this, the least recent are forgotten). */
export const MAX_RATERS_PER_REPLY = 1_000;
/** How long after a reply ended "no such message" is taken as "not stored yet" (see retryNotFound). */
const NOT_FOUND_GRACE_MS = 15_000;
const NOT_FOUND_RETRY_BASE_MS = 500;
const NOT_FOUND_RETRY_MAX_MS = 4_000;

/** The gateway call the recorder makes (GatewayClient.setFeedback). */
export type SetFeedback = (args: { conversationId: string; messageId: string; rating: Rating | null; user: string }) => Promise<unknown>;

export interface FeedbackRecorderOptions {
  setFeedback: SetFeedback;
  logger: Logger;
  /** Defaults to MAX_TRACKED_DISCORD_MESSAGES. */
  maxTrackedMessages?: number;
  /** Injected for tests. */
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What the runner holds while it writes a reply. */
export interface ReplyTracking {
  /** A Discord message of this reply was sent. */
  addMessage(discordMessageId: string): void;
  /** The reply has ended (however): feedback may now be sent. */
  end(): void;
}

/** A reaction change, as the Discord handler reports it. */
export interface ThumbReaction {
  kind: "add" | "remove";
  discordMessageId: string;
  userId: string;
  rating: Rating;
}

/** What became of a reaction: `ignored` if the message or the user's earlier reactions are unknown. */
export type ThumbOutcome = "ignored" | "recorded" | "failed";

interface Rater {
  shown: ShownThumb[];
  /** The rating the gateway last confirmed; undefined until the first call succeeds. */
  confirmed: Rating | null | undefined;
  /** The running sync, which keeps sending until the gateway has the wanted rating. */
  sync: Promise<ThumbOutcome> | null;
}

interface Reply {
  conversationId: string;
  assistantMessageId: string;
  ended: Promise<void>;
  endedAtMs: number | null;
  raters: BoundedLru<string, Rater>;
}

/** Tracks the bot's replies and turns reactions on them into feedback calls. */
export class FeedbackRecorder {
  readonly #opts: FeedbackRecorderOptions;
  readonly #byDiscordMessage: BoundedLru<string, Reply>;
  readonly #nowMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: FeedbackRecorderOptions) {
    this.#opts = options;
    this.#byDiscordMessage = new BoundedLru(options.maxTrackedMessages ?? MAX_TRACKED_DISCORD_MESSAGES);
    this.#nowMs = options.nowMs ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Starts tracking the reply that shows the gateway's assistant message `assistantMessageId`. */
  trackReply(args: { conversationId: string; assistantMessageId: string }): ReplyTracking {
    let markEnded!: () => void;
    const reply: Reply = {
      ...args,
      ended: new Promise<void>((r) => (markEnded = r)),
      endedAtMs: null,
      raters: new BoundedLru(MAX_RATERS_PER_REPLY),
    };
    return {
      addMessage: (id) => this.#byDiscordMessage.set(id, reply),
      end: () => {
        if (reply.endedAtMs !== null) return;
        reply.endedAtMs = this.#nowMs();
        markEnded();
      },
    };
  }

  /** Whether a Discord message is a remembered part of a reply. */
  isTracked(discordMessageId: string): boolean {
    return this.#byDiscordMessage.has(discordMessageId);
  }

  /**
   * Applies a user's 👍/👎 change and brings the gateway in line (after the reply has ended).
   * A removal by a user whose reactions were not followed is ignored: there is nothing to undo.
   */
  async onThumb(reaction: ThumbReaction): Promise<ThumbOutcome> {
    const reply = this.#byDiscordMessage.get(reaction.discordMessageId);
    if (!reply) return "ignored";
    let rater = reply.raters.get(reaction.userId);
    if (!rater) {
      if (reaction.kind === "remove") return "ignored";
      rater = { shown: [], confirmed: undefined, sync: null };
      reply.raters.set(reaction.userId, rater);
    }
    rater.shown = applyThumbChange(rater.shown, reaction);
    // One sync per rater: a change made while one runs is picked up by its next round.
    rater.sync ??= this.#sync(reply, reaction.userId, rater).finally(() => {
      if (rater) rater.sync = null;
    });
    return rater.sync;
  }

  async #sync(reply: Reply, userId: string, rater: Rater): Promise<ThumbOutcome> {
    await reply.ended;
    for (;;) {
      const wanted = ratingOf(rater.shown);
      if (wanted === rater.confirmed) return "recorded";
      if (!(await this.#send(reply, userId, wanted))) return "failed";
      rater.confirmed = wanted;
    }
  }

  /** One feedback call, retried while a 404 may only mean "not stored yet"; false if it failed (logged). */
  async #send(reply: Reply, userId: string, rating: Rating | null): Promise<boolean> {
    const where = { conversation: reply.conversationId, message: reply.assistantMessageId, user: userId, rating };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#opts.setFeedback({ conversationId: reply.conversationId, messageId: reply.assistantMessageId, rating, user: userId });
        this.#opts.logger.info("feedback recorded", where);
        return true;
      } catch (error) {
        const notFound = error instanceof GatewayCallError && error.status === 404;
        if (notFound && retryNotFound({ replyEndedAtMs: reply.endedAtMs ?? this.#nowMs(), nowMs: this.#nowMs(), graceMs: NOT_FOUND_GRACE_MS })) {
          await this.#sleep(backoffDelayMs({ attempt, baseMs: NOT_FOUND_RETRY_BASE_MS, maxMs: NOT_FOUND_RETRY_MAX_MS, random: Math.random() }));
          continue;
        }
        if (notFound) this.#opts.logger.info("feedback not recorded: the reply is no longer in its conversation (regenerated or reset)", where);
        else this.#opts.logger.warn("could not record feedback", { ...where, error: error instanceof Error ? error.message : String(error) });
        return false;
      }
    }
  }
}

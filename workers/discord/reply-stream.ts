/**
 * Shows a streaming reply through an interaction's webhook, as the bot process shows one in a
 * channel (discord/reply-view.ts decides the messages, discord/edit-schedule.ts when to edit):
 * the deferred original message edited at most once per edit interval, the text past Discord's
 * 2,000 characters continued in follow-up messages, and always a final edit with the outcome.
 * Appending never waits on Discord, so a rate-limited edit never stalls reading the generation.
 * Interaction replies carry no Stop or Regenerate buttons (there is no process to press them in).
 */
import { decideEdit } from "../../discord/edit-schedule.js";
import { viewReply, type ReplyMessageView, type ReplyPhase } from "../../discord/reply-view.js";
import type { InteractionWebhook } from "./webhook-client.js";

export class WebhookReplyStream {
  readonly #webhook: InteractionWebhook;
  readonly #editIntervalMs: number;
  #text = "";
  #phase: ReplyPhase = { kind: "writing" };
  /** Follow-up message ids; index 0 of a view is the original message. */
  readonly #followUpIds: string[] = [];
  readonly #shown: string[] = [];
  #lastEditAtMs: number | null = null;
  #flushing: Promise<void> | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #dirty = false;

  constructor(args: { webhook: InteractionWebhook; editIntervalMs: number }) {
    this.#webhook = args.webhook;
    this.#editIntervalMs = args.editIntervalMs;
  }

  get text(): string {
    return this.#text;
  }

  append(delta: string): void {
    if (delta === "") return;
    this.#text += delta;
    this.#dirty = true;
    this.#schedule();
  }

  /** Ends the reply in `phase` and waits until Discord shows the final state. */
  async finish(phase: Exclude<ReplyPhase, { kind: "writing" }>): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#phase = phase;
    this.#dirty = true;
    while (this.#flushing) await this.#flushing;
    await this.#flush();
  }

  #schedule(): void {
    if (this.#phase.kind !== "writing") return;
    const decision = decideEdit({
      nowMs: performance.now(),
      lastEditAtMs: this.#lastEditAtMs,
      intervalMs: this.#editIntervalMs,
      hasPendingChange: this.#dirty,
      isEditInFlight: this.#flushing !== null,
    });
    if (decision.kind === "now") {
      void this.#flush().then(() => this.#schedule());
    } else if (decision.kind === "wait" && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#schedule();
      }, decision.delayMs);
    }
  }

  #flush(): Promise<void> {
    const run = async () => {
      this.#dirty = false;
      this.#lastEditAtMs = performance.now();
      try {
        await this.#apply(viewReply({ text: this.#text, phase: this.#phase, assistantMessageId: null }));
      } catch (error) {
        // A 429 is waited out by the webhook; anything else is logged, and the next edit shows the newer state (as in the bot).
        console.warn("discord: could not update an interaction reply", error);
      }
    };
    const p = run().finally(() => {
      if (this.#flushing === p) this.#flushing = null;
    });
    this.#flushing = p;
    return p;
  }

  async #apply(views: ReplyMessageView[]): Promise<void> {
    // New follow-ups first (in order), then edits from the last message back, as the bot does: the
    // last message always shows the reply's true state.
    for (const [i, view] of views.entries()) {
      if (i === 0 || this.#followUpIds[i - 1] !== undefined) continue;
      this.#followUpIds[i - 1] = await this.#webhook.followUp({ content: view.content });
      this.#shown[i] = view.content;
    }
    for (let i = views.length - 1; i >= 0; i--) {
      const content = views[i]?.content;
      if (content === undefined || this.#shown[i] === content) continue;
      if (i === 0) await this.#webhook.editOriginal({ content });
      else await this.#webhook.editFollowUp(this.#followUpIds[i - 1]!, { content });
      this.#shown[i] = content;
    }
    // A later split needing fewer messages is rare (only the status line moves); blank the extras.
    for (let i = views.length; i < this.#shown.length; i++) {
      const id = this.#followUpIds[i - 1];
      if (id !== undefined && this.#shown[i] !== "\u200b") {
        await this.#webhook.editFollowUp(id, { content: "\u200b" });
        this.#shown[i] = "\u200b";
      }
    }
  }
}

/**
 * Shows a streaming reply in a Discord channel: typing until the first text, then one message
 * edited no more often than the edit interval, continuing in new messages past 2000 characters,
 * with Stop while writing and Regenerate when done.
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type Message, type SendableChannels } from "discord.js";
import { decideEdit } from "../discord/edit-schedule.js";
import type { Logger } from "./logger.js";
import { viewReply, type ReplyButton, type ReplyMessageView, type ReplyPhase } from "../discord/reply-view.js";

/** Typing lasts about 10 s in Discord; refresh a little before it runs out. */
const TYPING_REFRESH_MS = 8000;

/** custom_id prefixes of the reply buttons. */
export const BUTTON_IDS = { stop: "altiplano:stop", regeneratePrefix: "altiplano:regen:" } as const;

export interface StreamRendererOptions {
  channel: SendableChannels;
  editIntervalMs: number;
  logger: Logger;
  /** Called once with the time from the first text to the first message showing it. */
  onFirstVisible?: (ms: number) => void;
  /** Called with the id of each Discord message the reply is sent in (for reactions as feedback). */
  onMessageSent?: (discordMessageId: string) => void;
}

function toComponents(buttons: ReplyButton[]): ActionRowBuilder<ButtonBuilder>[] {
  if (buttons.length === 0) return [];
  const row = new ActionRowBuilder<ButtonBuilder>();
  for (const b of buttons) {
    if (b.kind === "stop") {
      row.addComponents(new ButtonBuilder().setCustomId(BUTTON_IDS.stop).setLabel("Stop").setStyle(ButtonStyle.Danger).setEmoji("⏹"));
    } else {
      row.addComponents(
        new ButtonBuilder()
          .setCustomId(`${BUTTON_IDS.regeneratePrefix}${b.assistantMessageId ?? ""}`)
          .setLabel("Regenerate")
          .setStyle(ButtonStyle.Secondary)
          .setEmoji("🔄"),
      );
    }
  }
  return [row];
}

function sameView(a: ReplyMessageView | undefined, b: ReplyMessageView): boolean {
  return a !== undefined && a.content === b.content && JSON.stringify(a.buttons) === JSON.stringify(b.buttons);
}

/** One reply being written into a channel. */
export class StreamRenderer {
  readonly #opts: StreamRendererOptions;
  #text = "";
  #phase: ReplyPhase = { kind: "writing" };
  #assistantMessageId: string | null = null;
  readonly #messages: Message[] = [];
  readonly #shown: ReplyMessageView[] = [];
  #lastEditAtMs: number | null = null;
  #flushing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #typingTimer: NodeJS.Timeout | null = null;
  #firstTextAtMs: number | null = null;
  #dirty = false;

  constructor(options: StreamRendererOptions) {
    this.#opts = options;
  }

  /** Shows "typing…" until the first text or the end. */
  startTyping(): void {
    const send = () => void this.#opts.channel.sendTyping().catch((e: unknown) => this.#opts.logger.warn("typing failed", e));
    send();
    this.#typingTimer = setInterval(send, TYPING_REFRESH_MS);
  }

  /** Records the gateway's id of the assistant message (for Regenerate). */
  setAssistantMessageId(id: string | null): void {
    this.#assistantMessageId = id;
  }

  /** The text generated so far. */
  get text(): string {
    return this.#text;
  }

  /** The Discord messages of this reply, in order. */
  get messages(): readonly Message[] {
    return this.#messages;
  }

  /** Adds generated text; the view catches up within the edit interval. */
  append(delta: string): void {
    if (delta === "") return;
    if (this.#firstTextAtMs === null) this.#firstTextAtMs = performance.now();
    this.#stopTyping();
    this.#text += delta;
    this.#dirty = true;
    this.#schedule();
  }

  /** Ends the reply in `phase` and waits until Discord shows the final state. */
  async finish(phase: Exclude<ReplyPhase, { kind: "writing" }>): Promise<void> {
    this.#stopTyping();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#phase = phase;
    this.#dirty = true;
    while (this.#flushing) await this.#flushing;
    await this.#flush();
  }

  #stopTyping(): void {
    if (this.#typingTimer) clearInterval(this.#typingTimer);
    this.#typingTimer = null;
  }

  #schedule(): void {
    if (this.#phase.kind !== "writing") return;
    const decision = decideEdit({
      nowMs: performance.now(),
      lastEditAtMs: this.#lastEditAtMs,
      intervalMs: this.#opts.editIntervalMs,
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
      const views = viewReply({ text: this.#text, phase: this.#phase, assistantMessageId: this.#assistantMessageId });
      try {
        await this.#apply(views);
      } catch (error) {
        this.#opts.logger.warn("could not update the reply in Discord", error);
      }
    };
    const p = run().finally(() => {
      if (this.#flushing === p) this.#flushing = null;
    });
    this.#flushing = p;
    return p;
  }

  async #apply(views: ReplyMessageView[]): Promise<void> {
    // New messages first (in order), then edits from the last message back: at every instant the
    // last message shows the reply's true state, never an earlier one's "finished-looking" cut.
    for (const [i, view] of views.entries()) {
      if (this.#messages[i]) continue;
      const sent = await this.#opts.channel.send(this.#payload(view));
      this.#messages.push(sent);
      this.#shown[i] = view;
      this.#opts.onMessageSent?.(sent.id);
      if (i === 0 && this.#firstTextAtMs !== null) this.#opts.onFirstVisible?.(performance.now() - this.#firstTextAtMs);
    }
    for (let i = Math.min(views.length, this.#messages.length) - 1; i >= 0; i--) {
      const view = views[i];
      const message = this.#messages[i];
      if (!view || !message || sameView(this.#shown[i], view)) continue;
      await message.edit(this.#payload(view));
      this.#shown[i] = view;
    }
    // A later split can need fewer messages than an earlier one did; drop the extras.
    while (this.#messages.length > views.length) {
      const extra = this.#messages.pop();
      this.#shown.pop();
      await extra?.delete();
    }
  }

  #payload(view: ReplyMessageView) {
    return { content: view.content, components: toComponents(view.buttons) };
  }
}

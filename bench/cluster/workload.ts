/**
 * Multi-turn chat sessions with ShareGPT-like lengths, as token-id arrays with the sharing
 * structure a prefix cache sees: every prompt starts with Vicuna's system line; some sessions add
 * one of a few shared app prompts; each turn's prompt is the whole conversation so far plus the
 * new user message. Message and answer tokens get fresh ids, so only true prefixes are shared.
 *
 * Lengths: lognormal per turn — user messages median 69 / sigma 1.3 (mean ~161 tokens), answers
 * median 226 / sigma 0.9 (mean ~339 tokens), matching the per-request means reported for ShareGPT
 * in the vLLM paper (Kwon et al., SOSP 2023: 161 input, 338 output), with long tails.
 */
import type { ClusterConfig } from "./config.js";
import { exponential, lognormal, uniformInt } from "./rng.js";

export interface TurnSpec {
  userTokens: number;
  answerTokens: number;
  thinkMs: number; // pause after this turn's answer before the next user message
}

export interface SessionSpec {
  id: string;
  systemTokens: readonly number[];
  turns: readonly TurnSpec[];
}

// Token-id ranges: system prompts below FIRST_FRESH_TOKEN, fresh message tokens above it.
const DEFAULT_SYSTEM_FIRST_TOKEN = 1;
const SHARED_SYSTEM_FIRST_TOKEN = 1_000;
const SHARED_SYSTEM_STRIDE = 100_000;
const FIRST_FRESH_TOKEN = 10_000_000;

/** Draws sessions in a fixed order from its own random stream, so every policy sees the same ones. */
export class Workload {
  private readonly config: ClusterConfig;
  private readonly random: () => number;
  private readonly defaultSystem: number[];
  private readonly sharedSystems: number[][];
  private sessions = 0;
  private nextToken = FIRST_FRESH_TOKEN;

  constructor(o: { config: ClusterConfig; random: () => number }) {
    this.config = o.config;
    this.random = o.random;
    const c = o.config;
    this.defaultSystem = range(DEFAULT_SYSTEM_FIRST_TOKEN, c.defaultSystemTokens);
    this.sharedSystems = Array.from({ length: c.sharedSystemPrompts }, (_, k) => [
      ...this.defaultSystem,
      ...range(SHARED_SYSTEM_FIRST_TOKEN + k * SHARED_SYSTEM_STRIDE, c.sharedSystemPromptTokens),
    ]);
  }

  /** Mean turns per session: requests per session. */
  meanTurns(): number {
    return (this.config.turnsMin + this.config.turnsMax) / 2;
  }

  nextSession(): SessionSpec {
    const c = this.config;
    const r = this.random;
    const shared = r() < c.sharedSystemPromptFraction;
    const systemTokens = shared ? this.sharedSystems[Math.floor(r() * this.sharedSystems.length)]! : this.defaultSystem;
    const turnCount = uniformInt(r, c.turnsMin, c.turnsMax);
    const turns: TurnSpec[] = [];
    for (let t = 0; t < turnCount; t++) {
      turns.push({
        userTokens: clampRound(lognormal(r, { median: c.userTokensMedian, sigma: c.userTokensSigma }), 1, c.contextTokens / 2),
        answerTokens: clampRound(lognormal(r, { median: c.answerTokensMedian, sigma: c.answerTokensSigma }), 1, c.maxAnswerTokens),
        thinkMs: exponential(r, c.thinkTimeMeanS * 1000),
      });
    }
    return { id: `session-${this.sessions++}`, systemTokens, turns };
  }

  /** `count` fresh token ids, never seen before in this workload. */
  freshTokens(count: number): number[] {
    const out = range(this.nextToken, count);
    this.nextToken += count;
    return out;
  }
}

/**
 * The running conversation of one session: its tokens are exactly the next prompt while a turn is
 * in flight, and prompt + answer once it completes.
 */
export class Conversation {
  tokens: number[];
  private readonly systemLength: number;
  private turnStarts: number[] = [];

  constructor(systemTokens: readonly number[]) {
    this.tokens = [...systemTokens];
    this.systemLength = systemTokens.length;
  }

  /**
   * Appends the user message and returns the prompt; drops the oldest whole turns first when
   * prompt + max answer would not fit the context window (as the gateway truncates).
   */
  addUserMessage(message: readonly number[], o: { answerTokens: number; contextTokens: number }): readonly number[] {
    while (this.turnStarts.length > 0 && this.tokens.length + message.length + o.answerTokens > o.contextTokens) {
      const dropEnd = this.turnStarts.length > 1 ? this.turnStarts[1]! : this.tokens.length;
      const dropped = dropEnd - this.turnStarts[0]!;
      this.tokens = [...this.tokens.slice(0, this.systemLength), ...this.tokens.slice(dropEnd)];
      this.turnStarts = this.turnStarts.slice(1).map((s) => s - dropped);
    }
    this.turnStarts.push(this.tokens.length);
    for (const t of message) this.tokens.push(t);
    return this.tokens;
  }

  addAnswer(answer: readonly number[]): void {
    for (const t of answer) this.tokens.push(t);
  }
}

function range(first: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = first + i;
  return out;
}

function clampRound(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(Math.floor(hi), Math.round(v)));
}

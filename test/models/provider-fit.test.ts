import { describe, expect, it } from "vitest";
import { fitProviderMessages, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS, type ProviderFitInput } from "../../workers/models/provider-fit.js";
import { providerRetryDelayMs } from "../../workers/models/provider-backoff.js";
import { UpstreamError } from "../../workers/upstream/upstream-error.js";

// One token per character: each message costs its length + the overhead.
const words = (n: number) => "x".repeat(n);
const turns = (...lengths: number[]) => lengths.map((n, i) => ({ role: i % 2 === 0 ? ("user" as const) : ("assistant" as const), content: words(n) }));
const cost = (n: number) => n + MESSAGE_OVERHEAD_TOKENS;

const base: ProviderFitInput = {
  conversation: { system: null, messages: turns(10) },
  contextLength: 100,
  maxTokens: null,
  defaultMaxTokens: 20,
  truncate: false,
  countTokens: (text) => text.length,
};

describe("fitProviderMessages", () => {
  it.each<{ name: string; input: Partial<ProviderFitInput>; want: { ok: boolean; kept?: number; dropped?: number; maxTokens?: number; promptTokens?: number } }>([
    { name: "fits: default max_tokens", input: {}, want: { ok: true, kept: 1, dropped: 0, maxTokens: 20, promptTokens: REPLY_PRIMING_TOKENS + cost(10) } },
    { name: "system prompt goes first and counts", input: { conversation: { system: words(6), messages: turns(10) } }, want: { ok: true, kept: 2, dropped: 0, promptTokens: REPLY_PRIMING_TOKENS + cost(6) + cost(10) } },
    { name: "default max_tokens shrinks to the room left", input: { conversation: { system: null, messages: turns(80) } }, want: { ok: true, maxTokens: 100 - REPLY_PRIMING_TOKENS - cost(80) } },
    { name: "without truncation an overflow is refused, nothing dropped", input: { conversation: { system: null, messages: turns(40, 40, 10) }, maxTokens: 10 }, want: { ok: false } },
    { name: "with truncation the oldest whole turn goes", input: { conversation: { system: null, messages: turns(40, 40, 10) }, maxTokens: 10, truncate: true }, want: { ok: true, kept: 1, dropped: 2, maxTokens: 10 } },
    { name: "truncation keeps the system prompt", input: { conversation: { system: "sys", messages: turns(40, 40, 10) }, maxTokens: 10, truncate: true }, want: { ok: true, kept: 2, dropped: 2 } },
    { name: "truncation keeps every turn that fits", input: { conversation: { system: null, messages: turns(5, 5, 5, 5, 10) }, maxTokens: 10, truncate: true }, want: { ok: true, kept: 5, dropped: 0 } },
    { name: "the newest message alone is too long: refused even when truncating", input: { conversation: { system: null, messages: turns(200) }, truncate: true }, want: { ok: false } },
    { name: "explicit max_tokens too large for the window", input: { maxTokens: 95 }, want: { ok: false } },
  ])("$name", ({ input, want }) => {
    const fit = fitProviderMessages({ ...base, ...input });
    expect(fit.ok).toBe(want.ok);
    if (!fit.ok) {
      expect(fit.message).toMatch(/maximum context length is 100 tokens/);
      return;
    }
    if (want.kept !== undefined) expect(fit.messages).toHaveLength(want.kept);
    if (want.dropped !== undefined) expect(fit.droppedMessages).toBe(want.dropped);
    if (want.maxTokens !== undefined) expect(fit.maxTokens).toBe(want.maxTokens);
    if (want.promptTokens !== undefined) expect(fit.promptTokens).toBe(want.promptTokens);
    expect(fit.promptTokens + fit.maxTokens).toBeLessThanOrEqual(100);
    const last = (input.conversation ?? base.conversation).messages.at(-1);
    expect(fit.messages.at(-1)).toEqual(last);
    if ((input.conversation ?? base.conversation).system !== null) expect(fit.messages[0]?.role).toBe("system");
  });
});

describe("providerRetryDelayMs", () => {
  const err = (retryAfter: number | null) => new UpstreamError("status", "x", 503, true, retryAfter);
  it.each([
    { name: "first retry: the base backoff", error: err(null), attempt: 1, want: 250 },
    { name: "doubles per attempt", error: err(null), attempt: 3, want: 1_000 },
    { name: "capped", error: err(null), attempt: 10, want: 4_000 },
    { name: "the provider's Retry-After wins", error: err(7), attempt: 1, want: 7_000 },
  ])("$name", ({ error, attempt, want }) => {
    expect(providerRetryDelayMs(error, attempt)).toBe(want);
  });
});

/** The chat page's pure helpers: titles from a first message, and errors put in words. */
import { describe, expect, it } from "vitest";
import { ApiError, errorWords, NetworkError } from "../../web/src/api/errors.js";
import { titleFrom } from "../../web/src/chat/messages.js";

describe("titleFrom", () => {
  it.each([
    ["What do llamas eat?", "What do llamas eat?"],
    ["  Hello   there \n second line", "Hello there"],
    ["# A heading\nbody", "A heading"],
    ["**Bold** and `code` and _it_", "Bold and code and it"],
    ["```python\nprint(1)\n```", "print(1)"],
    ["- a list item", "a list item"],
    ["\n\n  > quoted", "quoted"],
    ["x".repeat(80), `${"x".repeat(59)}…`],
    ["***", "***"],
  ])("%j → %j", (text, title) => {
    expect(titleFrom(text)).toBe(title);
  });
});

describe("errorWords", () => {
  it.each([
    [new ApiError(429, "Rate limit reached", "rate_limit_exceeded", 17), "You have reached a usage limit. Try again in 17 s."],
    [new ApiError(429, "Rate limit reached", null, null), "You have reached a usage limit. Try again in a moment."],
    [new ApiError(503, "no workers", "no_workers"), "No GPU workers are available for vicuna-13b-v1.5 right now. Try again in a little while."],
    [new ApiError(503, "busy", "overloaded"), "No GPU workers are available for vicuna-13b-v1.5 right now. Try again in a little while."],
    [new ApiError(503, "provider down", "provider_unavailable"), "No GPU workers are available for vicuna-13b-v1.5 right now. Try again in a little while."],
    [new ApiError(409, "busy", "conversation_busy"), "This chat is still answering a previous message. Wait a moment, then try again."],
    [new ApiError(401, "Invalid API key", "invalid_api_key"), "Your session has ended. Sign in again."],
    [new ApiError(400, "Invalid value for 'content'.", "invalid_value"), "Invalid value for 'content'."],
    [new ApiError(500, "boom", null), "The gateway could not answer (status 500): boom"],
    [new NetworkError("fetch failed"), "Could not reach the gateway. Check your connection and try again."],
  ])("%o", (err, words) => {
    expect(errorWords(err, { model: "vicuna-13b-v1.5" })).toBe(words);
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejectionError } from "../../workers/limits/rejection.js";
import type { Rejection } from "../../workers/limits/types.js";

// A loopback server answering every request with the limiter's 429, to show how the official SDK
// reacts to our headers: it stops on `x-should-retry: false` and retries a plain rate limit.
const usage = { requests: { limit: 10, remaining: 0, resetMs: 500 }, tokens: { limit: 100, remaining: 0, resetMs: 500 } };
const QUOTA: Rejection = { kind: "tokens_per_day", quotaExhausted: true, tooLarge: false, limit: 100, used: 100, requested: 5 };
const RPM: Rejection = { kind: "requests_per_minute", quotaExhausted: false, tooLarge: false, limit: 10, used: 10, requested: 1 };

let server: Server;
let baseURL: string;
let hits = 0;
let rejection: Rejection = QUOTA;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits += 1;
    const err = rejectionError({ rejection, retryAfterMs: 500, usage, scope: "key" });
    res.writeHead(err.status, { "content-type": "application/json", ...err.headers });
    res.end(JSON.stringify(err.toBody()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function callOnce(): Promise<unknown> {
  const client = new OpenAI({ apiKey: "sk-test", baseURL, maxRetries: 2 });
  return client.chat.completions
    .create({ model: "vicuna-13b-v1.5", messages: [{ role: "user", content: "hi" }] })
    .then(() => null, (e: unknown) => e);
}

describe("the official openai SDK and our 429s", () => {
  it("does not retry an exhausted daily quota (x-should-retry: false)", async () => {
    hits = 0;
    rejection = QUOTA;
    const err = await callOnce();
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).code).toBe("insufficient_quota");
    expect(hits).toBe(1);
  });

  it("does retry a plain rate limit, honouring Retry-After", async () => {
    hits = 0;
    rejection = RPM;
    const err = await callOnce();
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(hits).toBe(3);
  });
});

/** A small typed client of /v1/conversations for end-to-end tests. */
import { createParser } from "eventsource-parser";
import { z } from "zod";
import type { Conversation, ConversationList, ConversationWithMessages } from "../../wire/conversations.js";
import type { ChatCompletion } from "../../wire/openai.js";

const ChunkDelta = z.object({ choices: z.array(z.object({ delta: z.object({ content: z.string().optional() }) })) });

export class ConversationApi {
  constructor(
    readonly url: string,
    readonly key: string,
  ) {}

  raw(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  }

  private async expectJson<T>(res: Response, status: number): Promise<T> {
    const text = await res.text();
    if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
    // Test-side parse of the gateway's own typed response.
    return JSON.parse(text) as T;
  }

  async create(body: Record<string, unknown>, status = 201): Promise<Conversation> {
    return this.expectJson(await this.raw("POST", "/v1/conversations", body), status);
  }

  async get(id: string, query = ""): Promise<ConversationWithMessages> {
    return this.expectJson(await this.raw("GET", `/v1/conversations/${id}${query}`), 200);
  }

  async list(query = ""): Promise<ConversationList> {
    return this.expectJson(await this.raw("GET", `/v1/conversations${query}`), 200);
  }

  async send(id: string, body: Record<string, unknown>): Promise<{ body: ChatCompletion; headers: Headers }> {
    const res = await this.raw("POST", `/v1/conversations/${id}/messages`, body);
    return { body: await this.expectJson(res, 200), headers: res.headers };
  }

  async regenerate(id: string, body: Record<string, unknown>): Promise<{ body: ChatCompletion; headers: Headers }> {
    const res = await this.raw("POST", `/v1/conversations/${id}/regenerate`, body);
    return { body: await this.expectJson(res, 200), headers: res.headers };
  }

  /** Sends a streamed turn and assembles the text; `onText` may abort via the signal. */
  async sendStreamed(
    id: string,
    body: Record<string, unknown>,
    options: { signal?: AbortSignal; onText?: (textSoFar: string) => void } = {},
  ): Promise<{ headers: Headers; text: string; status: number }> {
    const res = await this.raw("POST", `/v1/conversations/${id}/messages`, { ...body, stream: true }, options.signal);
    if (res.status !== 200 || !res.body) return { headers: res.headers, text: await res.text(), status: res.status };
    let text = "";
    const parser = createParser({
      onEvent(event) {
        if (event.data === "[DONE]" || event.event === "error") return;
        const chunk = ChunkDelta.parse(JSON.parse(event.data));
        text += chunk.choices[0]?.delta.content ?? "";
        options.onText?.(text);
      },
    });
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      if (!options.signal?.aborted) throw err;
    }
    return { headers: res.headers, text, status: res.status };
  }
}

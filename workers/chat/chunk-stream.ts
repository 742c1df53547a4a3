/**
 * Writes an OpenAI `chat.completion.chunk` SSE stream: a role chunk, content deltas, a final chunk
 * with the finish reason, an optional usage chunk, `data: [DONE]`. An error after the stream has
 * started is sent as an `event: error` frame in the OpenAI error shape, then the stream ends.
 */
import type { ChatCompletionChunk, ErrorBody, FinishReason, Usage } from "../../wire/openai.js";
import { SseWriter } from "../http/sse-writer.js";

export { ClientStalledError } from "../http/sse-writer.js";

export interface ChunkStreamMeta {
  id: string;
  model: string;
  created: number;
  includeUsage: boolean;
  /** How long a full queue may wait for the client before it counts as gone (see SseWriter). */
  clientStallTimeoutMs: number;
}

export class ChunkStream extends SseWriter {
  constructor(private readonly meta: ChunkStreamMeta) {
    super(meta.clientStallTimeoutMs);
  }

  private chunk(delta: ChatCompletionChunk["choices"][number]["delta"], finishReason: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.meta.id,
      object: "chat.completion.chunk",
      created: this.meta.created,
      model: this.meta.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...(this.meta.includeUsage ? { usage: null } : {}),
    };
  }

  start(): Promise<void> {
    return this.data(this.chunk({ role: "assistant", content: "" }, null));
  }

  text(delta: string): Promise<void> {
    return this.data(this.chunk({ content: delta }, null));
  }

  async finish(finishReason: FinishReason, usage: Usage): Promise<void> {
    await this.data(this.chunk({}, finishReason));
    if (this.meta.includeUsage) {
      await this.data({ id: this.meta.id, object: "chat.completion.chunk", created: this.meta.created, model: this.meta.model, choices: [], usage });
    }
    await this.write("data: [DONE]\n\n");
    await this.close();
  }

  async fail(error: ErrorBody): Promise<void> {
    await this.write(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
    await this.close();
  }
}

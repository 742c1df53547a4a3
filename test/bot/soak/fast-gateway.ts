/**
 * A fast stand-in for the Altiplano gateway, for the bot's soak test only: the few routes a chat
 * turn uses (`/v1/models`, `POST /v1/conversations`, `POST /v1/conversations/{id}/messages`),
 * answering at once with a short streamed reply. The real gateway (workerd + D1) takes tens of
 * milliseconds a turn; 10,000 turns through it would not fit a CI run, and the soak measures the
 * bot's heap, not the gateway. Everything else in the bot's tests runs against the real stack.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TURN_HEADERS, type Conversation } from "../../../wire/conversations.js";

export interface FastGateway {
  url: string;
  /** Turns streamed so far. */
  turns(): number;
  stop(): Promise<void>;
}

const MODEL = "soak-model";
/** The reply every turn gets, in two deltas, so the bot both sends and edits. */
const REPLY = ["Llamas eat grass, ", "hay and grain."];

/** Starts the stand-in on 127.0.0.1 with a free port; `apiKey` is the only key it accepts. */
export async function startFastGateway(apiKey: string): Promise<FastGateway> {
  // One conversation per external id: as many as the soak has channels, not one per turn.
  const conversations = new Map<string, Conversation>();
  let turns = 0;
  let nextId = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "bad key", type: "invalid_request_error", param: null, code: "invalid_api_key" } }));
        return;
      }
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
      if (req.method === "GET" && path === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: MODEL, object: "model" }] }));
        return;
      }
      if (req.method === "POST" && path === "/v1/conversations") {
        const externalId = String(body.external_id ?? `anon-${nextId++}`);
        let conv = conversations.get(externalId);
        if (!conv) {
          const now = Math.floor(Date.now() / 1000);
          conv = { id: `conv_${nextId++}`, object: "conversation", model: MODEL, system_prompt: null, metadata: {}, external_id: externalId, user: null, training_consent: false, created_at: now, updated_at: now };
          conversations.set(externalId, conv);
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(conv));
        return;
      }
      const turn = /^\/v1\/conversations\/([^/]+)\/messages$/.exec(path);
      if (req.method === "POST" && turn) {
        turns++;
        res.writeHead(200, {
          "content-type": "text/event-stream",
          [TURN_HEADERS.conversationId]: turn[1] ?? "",
          [TURN_HEADERS.assistantMessageId]: `msg_${nextId++}`,
        });
        const chunk = (delta: Record<string, string>, finish: string | null) => `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.end(`${REPLY.map((t) => chunk({ content: t }, null)).join("")}${chunk({}, "stop")}data: [DONE]\n\n`);
        return;
      }
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${path}`, type: "invalid_request_error", param: null, code: "not_found" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    turns: () => turns,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The page's client of the gateway: the ordinary `/v1` routes and `/auth/session`, signed in by
 * the session cookie the browser sends itself (same origin), never by a key held in the page.
 */
import type * as z from "zod/mini";
import { ApiError, errorFromResponse, NetworkError } from "./errors.js";
import {
  ConversationListSchema,
  ConversationSchema,
  ConversationWithMessagesSchema,
  FeedbackSchema,
  ModelListSchema,
  SessionViewSchema,
  ShareDeletedSchema,
  ShareSchema,
  SharedConversationSchema,
  type Conversation,
  type ConversationWithMessages,
  type Feedback,
  type FeedbackBody,
  type SessionView,
  type Share,
  type SharedConversation,
} from "./schemas.js";
import { readChunkStream, type StreamEnd } from "./stream.js";

/** A same-origin call; a non-2xx answer throws its ApiError, a failed fetch a NetworkError. */
export async function request(method: string, path: string, options: { body?: unknown; signal?: AbortSignal } = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: options.body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new NetworkError(err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

/** A call whose answer is checked against `schema`; an unexpected shape is a 502 ApiError. */
export async function json<S extends z.ZodMiniType>(schema: S, method: string, path: string, body?: unknown): Promise<z.infer<S>> {
  const res = await request(method, path, { body });
  const parsed = schema.safeParse(await res.json());
  if (!parsed.success) throw new ApiError(502, `The gateway's answer to ${method} ${path.split("?")[0]} was not what this page expects.`);
  return parsed.data;
}

const conv = (id: string): string => `/v1/conversations/${encodeURIComponent(id)}`;

export const getSession = (): Promise<SessionView> => json(SessionViewSchema, "GET", "/auth/session");
export const signIn = (apiKey: string): Promise<SessionView> => json(SessionViewSchema, "POST", "/auth/session", { api_key: apiKey });
export const startDemo = (): Promise<SessionView> => json(SessionViewSchema, "POST", "/auth/demo");
export const signOut = (): Promise<SessionView> => json(SessionViewSchema, "DELETE", "/auth/session");

export async function listModels(): Promise<string[]> {
  return (await json(ModelListSchema, "GET", "/v1/models")).data.map((m) => m.id);
}

export async function listConversations(after?: string): Promise<{ data: Conversation[]; hasMore: boolean }> {
  const query = new URLSearchParams({ limit: "50" });
  if (after !== undefined) query.set("after", after);
  const page = await json(ConversationListSchema, "GET", `/v1/conversations?${query}`);
  return { data: page.data, hasMore: page.has_more };
}

export const createConversation = (body: { model?: string; system_prompt?: string }): Promise<Conversation> =>
  json(ConversationSchema, "POST", "/v1/conversations", body);
export const getConversation = (id: string): Promise<ConversationWithMessages> => json(ConversationWithMessagesSchema, "GET", conv(id));
export const updateMetadata = (id: string, metadata: Record<string, string>): Promise<Conversation> =>
  json(ConversationSchema, "POST", conv(id), { metadata });
/** Gives (true) or withdraws (false) consent to export the conversation as training data. */
export const setTrainingConsent = (id: string, consent: boolean): Promise<Conversation> =>
  json(ConversationSchema, "POST", conv(id), { training_consent: consent });
export async function deleteConversation(id: string): Promise<void> {
  await request("DELETE", conv(id));
}

export const sendFeedback = (conversationId: string, messageId: string, body: Omit<FeedbackBody, "user">): Promise<Feedback> =>
  json(FeedbackSchema, "POST", `${conv(conversationId)}/messages/${encodeURIComponent(messageId)}/feedback`, body);

export const shareConversation = (id: string): Promise<Share> => json(ShareSchema, "POST", `${conv(id)}/share`);
export async function getShare(id: string): Promise<Share | null> {
  try {
    return await json(ShareSchema, "GET", `${conv(id)}/share`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
export async function revokeShare(id: string): Promise<void> {
  await json(ShareDeletedSchema, "DELETE", `${conv(id)}/share`);
}
export const getSharedConversation = (shareId: string): Promise<SharedConversation> =>
  json(SharedConversationSchema, "GET", `/v1/shares/${encodeURIComponent(shareId)}`);

/** What a turn's response headers say before the first token. */
export interface TurnStart {
  userMessageId: string | null;
  assistantMessageId: string | null;
  /** Old messages left out of the prompt to fit the model's window. */
  droppedMessages: number;
}

export type TurnRequest =
  | { kind: "send"; content: string; replaces?: string }
  | { kind: "regenerate" };

/**
 * Runs one streamed turn: `onStart` gets the ids from the headers, `onDelta` each piece of text.
 * Aborting `signal` (Stop) ends the request; the gateway keeps the partial answer as cancelled.
 */
export async function streamTurn(
  conversationId: string,
  turn: TurnRequest,
  handlers: { signal: AbortSignal; onStart: (start: TurnStart) => void; onDelta: (text: string) => void },
): Promise<StreamEnd> {
  const path = turn.kind === "send" ? `${conv(conversationId)}/messages` : `${conv(conversationId)}/regenerate`;
  const body = turn.kind === "send" ? { content: turn.content, ...(turn.replaces ? { replaces: turn.replaces } : {}), stream: true } : { stream: true };
  const res = await request("POST", path, { body, signal: handlers.signal });
  const dropped = Number(res.headers.get("x-altiplano-dropped-messages") ?? "0");
  handlers.onStart({
    userMessageId: res.headers.get("x-user-message-id"),
    assistantMessageId: res.headers.get("x-message-id"),
    droppedMessages: Number.isFinite(dropped) ? dropped : 0,
  });
  if (!res.body) throw new ApiError(502, "The gateway sent no answer body.");
  return readChunkStream(res.body, handlers.onDelta);
}

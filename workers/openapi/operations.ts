/**
 * What each route of the app takes and answers, as data: the document builder turns this table into
 * OpenAPI paths. Request bodies and query parameters are the schemas the routes validate with;
 * test/worker/api-openapi.test.ts fails when a route the app mounts is missing here.
 */
import type { z } from "zod";
import { UserQuery, ListQuery } from "../routes/conversations.js";
import { AdminUsageQuery, UsageQuery } from "../routes/usage-query.js";
import { EvalsListQuery } from "../routes/admin-evals.js";
import { ExportQuery } from "../routes/admin-export.js";
import { DashboardHistoryQuery, FlagListQuery } from "../../wire/dashboard.js";
import type { ComponentName } from "./schemas.js";

/** Who may call: an API key (any role), an admin key, the pool token, the metrics token or an admin key, or anyone. */
export type Access = "key" | "admin" | "pool" | "metrics" | "public";

export interface PathParam {
  name: string;
  description: string;
  /** Allowed values, when the path segment is one of a few words. */
  values?: readonly string[];
}

export interface OperationSpec {
  method: "get" | "post" | "patch" | "delete";
  /** OpenAPI-style path, `{id}` for parameters. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: readonly PathParam[];
  query?: z.ZodObject;
  body?: ComponentName;
  /**
   * Success status → a JSON component, `"document"` for a JSON object without a schema of its own,
   * `"text"` for Prometheus text, `"turn"` for a chat answer (JSON, or SSE when streamed), `"html"`
   * for a web page, or `"asset"` for a static file of the web app.
   */
  success: { status: number; description: string; body: ComponentName | "document" | "text" | "turn" | "html" | "asset" | "ndjson" }[];
  /** Error statuses this route answers besides the ones every route of its access answers. */
  errors?: readonly number[];
}

const CONVERSATION_ID: PathParam = { name: "id", description: "Conversation id (`conv_…`)." };
const MESSAGE_ID: PathParam = { name: "message_id", description: "Message id (`msg_…`), an assistant message of the conversation." };
const SHARE_ID: PathParam = { name: "share_id", description: "Share id (`shr_…`), the secret part of a share link." };
const BATTLE_ID: PathParam = { name: "id", description: "Arena battle id (`battle_…`)." };
const KEY_ID: PathParam = { name: "id", description: "API key id." };
const WORKER_ID: PathParam = { name: "id", description: "Pool worker id (the agent's `workerId`)." };

/** Sampling fields, limits and model errors every generating route can answer. */
const GENERATION_ERRORS = [400, 404, 409, 413, 415, 429, 502, 503, 504] as const;

export const OPERATIONS: readonly OperationSpec[] = [
  {
    method: "get", path: "/health", summary: "Liveness of the gateway.", tag: "meta", access: "public",
    success: [{ status: 200, description: "The gateway is up.", body: "Health" }],
  },
  {
    method: "get", path: "/openapi.json", summary: "This OpenAPI 3.1 description.", tag: "meta", access: "public",
    success: [{ status: 200, description: "The OpenAPI document.", body: "document" }],
  },
  {
    method: "get", path: "/", summary: "The web app: the chat page.", tag: "web", access: "public",
    success: [{ status: 200, description: "The chat page.", body: "html" }],
  },
  {
    method: "get", path: "/arena", summary: "The web app: the arena page (two anonymous answers side by side, and the vote).", tag: "web", access: "public",
    success: [{ status: 200, description: "The arena page.", body: "html" }],
  },
  {
    method: "get", path: "/dashboard", summary: "The web app: the operator dashboard (admin sign-in; it reads `/admin/pool` and `/admin/dashboard/*`).", tag: "web", access: "public",
    success: [{ status: 200, description: "The dashboard page.", body: "html" }],
  },
  {
    method: "get", path: "/leaderboard", summary: "The web app: the public leaderboard page (it reads `/v1/leaderboard`).", tag: "web", access: "public",
    success: [{ status: 200, description: "The leaderboard page.", body: "html" }],
  },
  {
    method: "get", path: "/share/{id}", summary: "The web app's read-only page of a shared conversation (it reads `/v1/shares/{id}`).", tag: "web", access: "public",
    params: [{ name: "id", description: "Share id (`shr_…`)." }],
    success: [{ status: 200, description: "The shared-conversation page.", body: "html" }],
  },
  {
    method: "get", path: "/assets/{path}", summary: "The web app's scripts, styles and images.", tag: "web", access: "public",
    params: [{ name: "path", description: "The file's path under /assets/ (hashed names)." }],
    success: [{ status: 200, description: "The file.", body: "asset" }],
    errors: [404],
  },
  {
    method: "get", path: "/auth/session", summary: "The browser's sign-in state (from its cookie), and whether public demo mode is on.", tag: "web", access: "public",
    success: [{ status: 200, description: "Signed in or not; never a key or an end-user id.", body: "Session" }],
  },
  {
    method: "post", path: "/auth/session", summary: "Exchange an API key for a web session cookie (HttpOnly, SameSite=Strict); from the page's own origin.", tag: "web", access: "public",
    body: "SignInRequest",
    success: [{ status: 200, description: "Signed in; `Set-Cookie` carries the session.", body: "Session" }],
    errors: [400, 401, 403, 413, 415, 503],
  },
  {
    method: "delete", path: "/auth/session", summary: "Sign out: end the session and clear its cookie; from the page's own origin.", tag: "web", access: "public",
    success: [{ status: 200, description: "The sign-in state after signing out.", body: "Session" }],
    errors: [403],
  },
  {
    method: "post", path: "/auth/demo", summary: "Public demo mode: become an anonymous visitor (a signed cookie); from the page's own origin.", tag: "web", access: "public",
    success: [{ status: 200, description: "The visitor's sign-in state.", body: "Session" }],
    errors: [403, 404, 503],
  },
  {
    method: "get", path: "/v1/models", summary: "List the served models.", tag: "models", access: "key",
    success: [{ status: 200, description: "Every configured model.", body: "ModelList" }],
  },
  {
    method: "get", path: "/v1/models/{id}", summary: "One model.", tag: "models", access: "key",
    params: [{ name: "id", description: "Model id; may contain `/`." }],
    success: [{ status: 200, description: "The model.", body: "Model" }],
    errors: [404],
  },
  {
    method: "post", path: "/v1/chat/completions", summary: "OpenAI-compatible chat completion (stateless).", tag: "chat", access: "key",
    body: "ChatCompletionRequest",
    success: [{ status: 200, description: "A `chat.completion`, or with `stream: true` a stream of `chat.completion.chunk` events.", body: "turn" }],
    errors: GENERATION_ERRORS,
  },
  {
    method: "post", path: "/v1/conversations", summary: "Create a conversation (idempotent per `external_id`).", tag: "conversations", access: "key",
    body: "CreateConversationRequest",
    success: [
      { status: 201, description: "Created.", body: "Conversation" },
      { status: 200, description: "The existing conversation with this `external_id`.", body: "Conversation" },
    ],
    errors: [400, 404, 413, 415],
  },
  {
    method: "get", path: "/v1/conversations", summary: "List conversations, newest first.", tag: "conversations", access: "key",
    query: ListQuery,
    success: [{ status: 200, description: "A page of conversations.", body: "ConversationList" }],
    errors: [400],
  },
  {
    method: "get", path: "/v1/conversations/{id}", summary: "A conversation with its messages.", tag: "conversations", access: "key",
    params: [CONVERSATION_ID], query: UserQuery.strict(),
    success: [{ status: 200, description: "The conversation.", body: "ConversationWithMessages" }],
    errors: [400, 404],
  },
  {
    method: "post", path: "/v1/conversations/{id}", summary: "Update a conversation: replace its `metadata` (the web app keeps the title in `metadata.title`).", tag: "conversations", access: "key",
    params: [CONVERSATION_ID], body: "UpdateConversationRequest",
    success: [{ status: 200, description: "The updated conversation.", body: "Conversation" }],
    errors: [400, 404, 413, 415],
  },
  {
    method: "delete", path: "/v1/conversations/{id}", summary: "Delete a conversation and its messages.", tag: "conversations", access: "key",
    params: [CONVERSATION_ID], query: UserQuery.strict(),
    success: [{ status: 200, description: "Deleted.", body: "ConversationDeleted" }],
    errors: [400, 404],
  },
  {
    method: "post", path: "/v1/conversations/{id}/messages", summary: "A turn: the user message in, the assistant reply out.", tag: "conversations", access: "key",
    params: [CONVERSATION_ID], body: "TurnRequest",
    success: [
      {
        status: 200,
        description:
          "The reply as `chat.completion` or chunk stream; headers x-conversation-id, x-user-message-id, x-message-id, and " +
          "x-altiplano-dropped-messages when old messages were left out to fit the window. With `replaces` (the last user " +
          "message's id), that message and its replies are replaced by this one when the reply is stored.",
        body: "turn",
      },
    ],
    errors: GENERATION_ERRORS,
  },
  {
    method: "post", path: "/v1/conversations/{id}/regenerate", summary: "Replace the last assistant reply.", tag: "conversations", access: "key",
    params: [CONVERSATION_ID], body: "RegenerateRequest",
    success: [{ status: 200, description: "The new reply as `chat.completion` or chunk stream.", body: "turn" }],
    errors: GENERATION_ERRORS,
  },
  {
    method: "post", path: "/v1/conversations/{id}/messages/{message_id}/feedback", summary: "Set, change or clear the caller's feedback on an assistant message.", tag: "conversations", access: "key",
    params: [CONVERSATION_ID, MESSAGE_ID], body: "FeedbackRequest",
    success: [{ status: 200, description: "The feedback as now stored (all empty: cleared).", body: "Feedback" }],
    errors: [400, 404, 413, 415],
  },
  {
    method: "post", path: "/v1/conversations/{id}/share", summary: "Publish (or refresh) a read-only snapshot of the conversation behind an unguessable link.", tag: "shares", access: "key",
    params: [CONVERSATION_ID], query: UserQuery.strict(),
    success: [
      { status: 201, description: "Shared for the first time.", body: "Share" },
      { status: 200, description: "Shared again: the same id and link, the snapshot refreshed.", body: "Share" },
    ],
    errors: [400, 404],
  },
  {
    method: "get", path: "/v1/conversations/{id}/share", summary: "The conversation's share link, if it is shared.", tag: "shares", access: "key",
    params: [CONVERSATION_ID], query: UserQuery.strict(),
    success: [{ status: 200, description: "The share.", body: "Share" }],
    errors: [400, 404],
  },
  {
    method: "delete", path: "/v1/conversations/{id}/share", summary: "Revoke the share link; it is a 404 at once.", tag: "shares", access: "key",
    params: [CONVERSATION_ID], query: UserQuery.strict(),
    success: [{ status: 200, description: "Revoked.", body: "ShareDeleted" }],
    errors: [400, 404],
  },
  {
    method: "post", path: "/v1/arena/battles", summary: "Start an arena battle: two models (drawn at random among the arena's serving models, or named in `models`) answer the same question.", tag: "arena", access: "key",
    body: "CreateBattleRequest",
    success: [
      {
        status: 200,
        description:
          "Both answers: one `ArenaTurnResult`, or with `stream` one SSE stream of `ArenaStreamEvent`s (`battle`, `delta` and `reply` events naming their slot `a` or `b`, a last `battle`, then `[DONE]`). " +
          "Models stay null until the vote. A battle costs two generations against the limits; if both sides fail before their first token, this is an error response and nothing is stored.",
        body: "ArenaTurnResult",
      },
    ],
    errors: GENERATION_ERRORS,
  },
  {
    method: "get", path: "/v1/arena/battles/{id}", summary: "An arena battle with both sides' messages (models shown once it is voted or failed).", tag: "arena", access: "key",
    params: [BATTLE_ID], query: UserQuery.strict(),
    success: [{ status: 200, description: "The battle.", body: "ArenaBattleWithMessages" }],
    errors: [400, 404],
  },
  {
    method: "post", path: "/v1/arena/battles/{id}/turns", summary: "Ask both sides of an open battle a follow-up question.", tag: "arena", access: "key",
    params: [BATTLE_ID], body: "BattleTurnRequest",
    success: [{ status: 200, description: "Both answers, as for a new battle (JSON, or one SSE stream with `stream`).", body: "ArenaTurnResult" }],
    errors: GENERATION_ERRORS,
  },
  {
    method: "post", path: "/v1/arena/battles/{id}/vote", summary: "Vote `a`, `b`, `tie` or `bothbad`; one vote per battle, and the answer names both models.", tag: "arena", access: "key",
    params: [BATTLE_ID], body: "VoteRequest",
    success: [{ status: 200, description: "The voted battle, models revealed.", body: "ArenaBattle" }],
    errors: [400, 404, 409, 413, 415],
  },
  {
    method: "get", path: "/v1/leaderboard", summary: "The arena's leaderboard: Bradley–Terry ratings with 95 % bootstrap intervals, records and the pairwise win-fraction matrix.", tag: "arena", access: "public",
    success: [{ status: 200, description: "The last computed leaderboard (refitted on a schedule, or when older than its max age).", body: "ArenaLeaderboard" }],
  },
  {
    method: "post", path: "/admin/arena/leaderboard", summary: "Refit the leaderboard from every stored vote now.", tag: "arena", access: "admin",
    success: [{ status: 200, description: "The new leaderboard.", body: "ArenaLeaderboard" }],
  },
  {
    method: "post", path: "/admin/evals", summary: "Record the results of an `npm run eval` run (its results.json).", tag: "evals", access: "admin",
    body: "RecordEvalRequest",
    success: [{ status: 201, description: "Recorded.", body: "EvalRun" }],
    errors: [400, 413, 415],
  },
  {
    method: "get", path: "/admin/evals", summary: "Recorded evaluation runs, newest first.", tag: "evals", access: "admin",
    query: EvalsListQuery,
    success: [{ status: 200, description: "The runs.", body: "EvalRunList" }],
    errors: [400],
  },
  {
    method: "get", path: "/admin/export/models", summary: "How each served model renders a conversation (template, tokenizer, window), for the export to count tokens as training will.", tag: "export", access: "admin",
    success: [{ status: 200, description: "The models.", body: "ExportModelList" }],
  },
  {
    method: "get", path: "/admin/export/conversations", summary: "Consented conversations for training data, as NDJSON, oldest first: one line per conversation (messages with their 👍/👎 counts), then a cursor line for the next page.", tag: "export", access: "admin",
    query: ExportQuery,
    success: [{ status: 200, description: "One page of `application/x-ndjson`; `npm run export` walks the pages and cleans them.", body: "ndjson" }],
    errors: [400],
  },
  {
    method: "get", path: "/v1/shares/{share_id}", summary: "A shared conversation, read-only: title, model and messages; no key, end user, metadata or ids.", tag: "shares", access: "public",
    params: [SHARE_ID],
    success: [{ status: 200, description: "The snapshot.", body: "SharedConversation" }],
    errors: [404],
  },
  {
    method: "get", path: "/v1/usage", summary: "The caller's usage per day and model, with the limits that apply.", tag: "usage", access: "key",
    query: UsageQuery,
    success: [{ status: 200, description: "The usage report.", body: "UsageReport" }],
    errors: [400],
  },
  {
    method: "post", path: "/admin/keys", summary: "Create an API key (plaintext shown once).", tag: "admin", access: "admin",
    body: "CreateKeyRequest",
    success: [{ status: 201, description: "The key, with its plaintext.", body: "ApiKeyCreated" }],
    errors: [400, 413, 415],
  },
  {
    method: "get", path: "/admin/keys", summary: "List API keys (prefixes only).", tag: "admin", access: "admin",
    success: [{ status: 200, description: "Every key.", body: "ApiKeyList" }],
  },
  {
    method: "get", path: "/admin/keys/{id}", summary: "One API key.", tag: "admin", access: "admin",
    params: [KEY_ID],
    success: [{ status: 200, description: "The key.", body: "ApiKey" }],
    errors: [404],
  },
  {
    method: "patch", path: "/admin/keys/{id}", summary: "Rename a key, change its limit overrides or its data-sharing default.", tag: "admin", access: "admin",
    params: [KEY_ID], body: "PatchKeyRequest",
    success: [{ status: 200, description: "The key as changed.", body: "ApiKey" }],
    errors: [400, 404, 413, 415],
  },
  {
    method: "delete", path: "/admin/keys/{id}", summary: "Revoke an API key.", tag: "admin", access: "admin",
    params: [KEY_ID],
    success: [{ status: 200, description: "The revoked key.", body: "ApiKey" }],
    errors: [404],
  },
  {
    method: "get", path: "/admin/usage", summary: "Usage across keys, per key, day and model.", tag: "admin", access: "admin",
    query: AdminUsageQuery,
    success: [{ status: 200, description: "The usage report.", body: "AdminUsageReport" }],
    errors: [400],
  },
  {
    method: "get", path: "/admin/dashboard/history", summary: "Traffic over the last hour (1-minute buckets) or day (5-minute buckets): requests by outcome, refusals, tokens, failovers, time to first token p50/p99.", tag: "dashboard", access: "admin",
    query: DashboardHistoryQuery,
    success: [{ status: 200, description: "Contiguous buckets, oldest first; the last one is still open.", body: "DashboardHistory" }],
    errors: [400],
  },
  {
    method: "get", path: "/admin/dashboard/summary", summary: "Per model ready workers and desired replicas; usage and top keys and end users today and over 7 days; feedback counts; the latest eval run; the arena's top rows.", tag: "dashboard", access: "admin",
    success: [{ status: 200, description: "The summary.", body: "DashboardSummary" }],
  },
  {
    method: "get", path: "/admin/flags", summary: "Flagged assistant messages, newest flag first, each with the messages around it and the key and end user it belongs to.", tag: "moderation", access: "admin",
    query: FlagListQuery,
    success: [{ status: 200, description: "A page of flagged messages; pass `next_cursor` as `cursor` for the next.", body: "FlagList" }],
    errors: [400],
  },
  {
    method: "get", path: "/admin/conversations/{id}", summary: "Any key's conversation, with its key and every end user's feedback per message (moderation).", tag: "moderation", access: "admin",
    params: [CONVERSATION_ID],
    success: [{ status: 200, description: "The conversation and its messages.", body: "AdminConversation" }],
    errors: [404],
  },
  {
    method: "delete", path: "/admin/conversations/{id}", summary: "Delete any key's conversation with its messages, feedback and share (moderation).", tag: "moderation", access: "admin",
    params: [CONVERSATION_ID],
    success: [{ status: 200, description: "Deleted; its owner now gets 404.", body: "ConversationDeleted" }],
    errors: [404],
  },
  {
    method: "get", path: "/admin/pool", summary: "GPU pool workers and desired replicas per model.", tag: "pool", access: "admin",
    success: [{ status: 200, description: "The pool.", body: "AdminPool" }],
  },
  {
    method: "post", path: "/admin/pool/workers/{id}/{action}", summary: "Drain, cordon or uncordon a worker.", tag: "pool", access: "admin",
    params: [WORKER_ID, { name: "action", description: "What to do with the worker.", values: ["drain", "cordon", "uncordon"] }],
    success: [{ status: 200, description: "The worker after the action.", body: "AdminPoolWorker" }],
    errors: [404],
  },
  {
    method: "delete", path: "/admin/pool/workers/{id}", summary: "Remove a worker from the pool.", tag: "pool", access: "admin",
    params: [WORKER_ID],
    success: [{ status: 200, description: "Removed.", body: "AdminPoolWorkerDeleted" }],
    errors: [404],
  },
  {
    method: "post", path: "/pool/heartbeat", summary: "A GPU worker's agent joins and stays in the pool.", tag: "pool", access: "pool",
    body: "Heartbeat",
    success: [{ status: 200, description: "The state the pool holds for the worker.", body: "HeartbeatReply" }],
    errors: [400, 403, 413],
  },
  {
    method: "get", path: "/metrics", summary: "Prometheus metrics of the pool and the gateway.", tag: "meta", access: "metrics",
    success: [{ status: 200, description: "Prometheus text exposition.", body: "text" }],
    errors: [403, 503],
  },
  {
    method: "post", path: "/discord/interactions",
    summary: "Discord's Interactions Endpoint: a Discord interaction, signed by Discord (X-Signature-Ed25519 over X-Signature-Timestamp + body with the application's public key; no API key). 404 unless DISCORD_PUBLIC_KEY is set.",
    tag: "discord", access: "public",
    success: [{ status: 200, description: "The interaction response: PONG, a deferred answer (the command then runs and edits it in), or a message.", body: "document" }],
    errors: [400, 401, 404, 413, 503],
  },
];

/**
 * The named schemas of the OpenAPI description (`components.schemas`): the very zod schemas the
 * routes validate requests with, and the wire response schemas. Converted with zod's own JSON
 * Schema generator, so the description cannot disagree with validation.
 */
import { z } from "zod";
import {
  ConversationDeletedSchema,
  ConversationListSchema,
  ConversationMessageSchema,
  ConversationSchema,
  ConversationWithMessagesSchema,
  CreateConversationBody,
  FeedbackBody,
  FeedbackSchema,
  RegenerateBody,
  ShareDeletedSchema,
  SharedConversationSchema,
  ShareSchema,
  TurnBody,
  UpdateConversationBody,
} from "../../wire/conversations.js";
import { Heartbeat, HeartbeatReply } from "../../wire/heartbeat.js";
import { EvalRunListSchema, EvalRunSchema, RecordEvalBody } from "../../wire/evals.js";
import { ExportModelListSchema } from "../../wire/export.js";
import {
  ArenaBattleSchema,
  ArenaBattleWithMessagesSchema,
  ArenaLeaderboardSchema,
  ArenaTurnResultSchema,
  BattleTurnBody,
  CreateBattleBody,
  VoteBody,
} from "../../wire/arena.js";
import { ChatCompletionChunkSchema, ChatCompletionSchema, ErrorBodySchema, ModelCardSchema, ModelListSchema, type SameShape } from "../../wire/openai.js";
import { AdminPool, AdminPoolWorker, AdminPoolWorkerDeleted } from "../../wire/pool-admin.js";
import { AdminUsageReport, ScopeLimits, UsageReport } from "../../wire/usage.js";
import { AdminConversation, DashboardHistory, DashboardSummary, FlagList } from "../../wire/dashboard.js";
import { LimitsBody } from "../limits/config.js";
import { CreateKeyBody, PatchKeyBody, type keyView } from "../routes/admin-keys.js";
import { SignInBody, type SessionView } from "../web/session-routes.js";
import { ChatCompletionBody } from "../routes/chat-completions.js";

/** A key as the admin API shows it (keyView); checked against keyView's return type below. */
const ApiKeySchema = z.object({
  id: z.string(),
  object: z.literal("api_key"),
  name: z.string(),
  role: z.enum(["admin", "user", "bot"]),
  /** Display prefix; the key itself is stored only as a hash. */
  prefix: z.string(),
  created_at: z.number().int(),
  revoked_at: z.number().int().nullable(),
  limit_overrides: LimitsBody,
  limits: ScopeLimits.extend({ end_user: ScopeLimits }),
  data_sharing: z.boolean(),
});
const apiKeyMatches: SameShape<z.infer<typeof ApiKeySchema>, ReturnType<typeof keyView>> = true;
void apiKeyMatches;

/** `POST /admin/keys` adds the plaintext key, shown this once. */
const ApiKeyCreatedSchema = ApiKeySchema.extend({ key: z.string() });
const ApiKeyListSchema = z.object({ object: z.literal("list"), data: z.array(ApiKeySchema) });
const HealthSchema = z.object({ ok: z.literal(true) });

/** The web app's sign-in state (workers/web/session-routes.ts' SessionView, checked below). */
const SessionSchema = z.union([
  z.object({ signed_in: z.literal(false), demo: z.boolean() }),
  z.object({ signed_in: z.literal(true), kind: z.literal("key"), name: z.string(), role: z.enum(["admin", "user", "bot"]), demo: z.boolean() }),
  z.object({ signed_in: z.literal(true), kind: z.literal("visitor"), demo: z.literal(true) }),
]);
const sessionMatches: SameShape<z.infer<typeof SessionSchema>, SessionView> = true;
void sessionMatches;

/** Component name → schema. A schema used inside another named one becomes a `$ref` to it. */
export const COMPONENT_SCHEMAS = {
  ErrorBody: ErrorBodySchema,
  Health: HealthSchema,
  Session: SessionSchema,
  // `POST /auth/session`: the key is exchanged for a cookie and never kept by the page.
  SignInRequest: SignInBody,
  Model: ModelCardSchema,
  ModelList: ModelListSchema,
  ChatCompletionRequest: ChatCompletionBody,
  ChatCompletion: ChatCompletionSchema,
  ChatCompletionChunk: ChatCompletionChunkSchema,
  CreateConversationRequest: CreateConversationBody,
  UpdateConversationRequest: UpdateConversationBody,
  TurnRequest: TurnBody,
  RegenerateRequest: RegenerateBody,
  Conversation: ConversationSchema,
  ConversationMessage: ConversationMessageSchema,
  ConversationWithMessages: ConversationWithMessagesSchema,
  ConversationList: ConversationListSchema,
  ConversationDeleted: ConversationDeletedSchema,
  FeedbackRequest: FeedbackBody,
  Feedback: FeedbackSchema,
  Share: ShareSchema,
  ShareDeleted: ShareDeletedSchema,
  SharedConversation: SharedConversationSchema,
  CreateBattleRequest: CreateBattleBody,
  BattleTurnRequest: BattleTurnBody,
  VoteRequest: VoteBody,
  ArenaBattle: ArenaBattleSchema,
  ArenaTurnResult: ArenaTurnResultSchema,
  ArenaBattleWithMessages: ArenaBattleWithMessagesSchema,
  ArenaLeaderboard: ArenaLeaderboardSchema,
  RecordEvalRequest: RecordEvalBody,
  EvalRun: EvalRunSchema,
  EvalRunList: EvalRunListSchema,
  ExportModelList: ExportModelListSchema,
  UsageReport,
  AdminUsageReport,
  CreateKeyRequest: CreateKeyBody,
  PatchKeyRequest: PatchKeyBody,
  ApiKey: ApiKeySchema,
  ApiKeyCreated: ApiKeyCreatedSchema,
  ApiKeyList: ApiKeyListSchema,
  AdminPool,
  AdminPoolWorker,
  AdminPoolWorkerDeleted,
  DashboardHistory,
  DashboardSummary,
  FlagList,
  AdminConversation,
  Heartbeat,
  HeartbeatReply,
} satisfies Record<string, z.ZodType>;

export type ComponentName = keyof typeof COMPONENT_SCHEMAS;

export type JsonSchema = Record<string, unknown>;

/** Requests are described as clients send them: the input side of transforms, defaults and coercions. */
const CONVERSION = { io: "input", unrepresentable: "any" } as const;

/**
 * OpenAPI 3.1 schemas are JSON Schema 2020-12 already, so `$schema` is noise; and the `$id` zod
 * sets to the component's URI is a fragment, which 2020-12 forbids in `$id` (refs resolve against
 * the document without it).
 */
function asComponent(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

export function componentRef(name: ComponentName): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** Every component, converted together so shared named schemas become refs between components. */
export function buildComponentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { ...CONVERSION, uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    // `__shared` would hold sub-schemas with ids from elsewhere; none exist, and the test checks every $ref resolves.
    if (id === "__shared") continue;
    out[id] = asComponent(schema);
  }
  return out;
}

/** A query schema (a zod object) as OpenAPI query parameters, one per property. */
export function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const json = z.toJSONSchema(schema, CONVERSION);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(json.required ?? []);
  return Object.entries(properties).map(([name, property]) => ({ name, in: "query", required: required.has(name), schema: property }));
}

/**
 * The `MODELS` var: what each served model is. One entry per model, in one of two shapes:
 *
 * - a pool model, served by the GPU workers: `template` names its prompt family and `tokenizer`
 *   its vocabulary (default: the family's own), because the gateway renders the prompt itself;
 * - a provider model, served by an OpenAI-compatible API: `provider` names the protocol, and the
 *   provider owns the template; its key is read from the secret named by `apiKeySecret`.
 *
 * Parsed once per isolate by workers/config.ts; the pool object reads only the pool models' ids.
 * Pure: no bindings, so the simulator and tests can parse an entry too.
 */
import { z } from "zod";
import { checkTemplateTokenizer, TEMPLATE_IDS, TOKENIZER_IDS } from "../prompt/index.js";

const ModelId = z.string().min(1).max(128);

/**
 * Taking part in the arena (workers/arena/): absent = not in it. `weight` is how often the model
 * is drawn relative to the others; `identityWords` are words that name it ("vicuna", "lmsys"): a
 * vote on a battle where a side's answer said one of them is not rated.
 */
const ArenaEntry = z
  .object({
    weight: z.number().positive().max(1_000_000).default(1),
    identityWords: z.array(z.string().trim().min(1).max(64)).max(64).default([]),
  })
  .strict();
export type ArenaEntry = z.infer<typeof ArenaEntry>;

const PoolModelEntry = z
  .object({
    /** Model id clients send, and the served model name on vLLM. */
    id: ModelId,
    /** Prompt family the gateway renders (workers/prompt/). */
    template: z.enum(TEMPLATE_IDS),
    /** Vocabulary of the model; absent = the family's usual one. A tokenizer not shipped here is refused. */
    tokenizer: z.enum(TOKENIZER_IDS).optional(),
    /** Context window in tokens (prompt + completion). */
    contextLength: z.number().int().min(16),
    /** max_tokens when the request gives none, capped by the room left in the window. */
    defaultMaxTokens: z.number().int().min(1),
    arena: ArenaEntry.optional(),
  })
  .strict();

const ProviderModelEntry = z
  .object({
    id: ModelId,
    /** The protocol spoken upstream; only OpenAI's chat completions today. */
    provider: z.literal("openai-compatible"),
    /** Base URL up to and including the version, e.g. https://api.openai.com/v1. */
    baseUrl: z.url({ protocol: /^https?$/ }),
    /** Name of the Worker secret holding the provider's API key (never the key itself). */
    apiKeySecret: z.string().regex(/^[A-Z][A-Z0-9_]*$/, "must be an upper-case secret name such as OPENAI_API_KEY"),
    /** The provider's name for the model; absent = `id`. */
    upstreamModel: z.string().min(1).max(256).optional(),
    contextLength: z.number().int().min(16),
    defaultMaxTokens: z.number().int().min(1).default(1024),
    /** A vocabulary close to the provider's, for estimates before the call; absent = about 4 characters a token. */
    tokenizer: z.enum(TOKENIZER_IDS).optional(),
    arena: ArenaEntry.optional(),
  })
  .strict();

export type PoolModelEntry = z.infer<typeof PoolModelEntry>;
export type ProviderModelEntry = z.infer<typeof ProviderModelEntry>;
export type ModelEntry = PoolModelEntry | ProviderModelEntry;

/** One entry: a `provider` field makes it a provider model, anything else is read as a pool model. */
function entrySchema(item: unknown): z.ZodType<ModelEntry> {
  return typeof item === "object" && item !== null && "provider" in item ? ProviderModelEntry : PoolModelEntry;
}

/**
 * The whole list. Each entry is checked against its own shape (so a mistake is reported as
 * "MODELS.1.contextLength: …", not as a failed union), then ids must be unique and a pool model's
 * tokenizer must suit its template: a miscount would overflow the window silently.
 */
export const ModelEntries = z
  .array(z.unknown())
  .min(1)
  .transform((items, ctx): ModelEntry[] => {
    const entries: ModelEntry[] = [];
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const parsed = entrySchema(item).safeParse(item);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: [index, ...issue.path.map(String)] });
        return;
      }
      const entry = parsed.data;
      if (seen.has(entry.id)) ctx.addIssue({ code: "custom", message: `model '${entry.id}' is listed twice`, path: [index, "id"] });
      seen.add(entry.id);
      if (isPoolEntry(entry) && entry.tokenizer !== undefined) {
        const mismatch = checkTemplateTokenizer(entry.template, entry.tokenizer);
        if (mismatch) ctx.addIssue({ code: "custom", message: mismatch, path: [index, "tokenizer"] });
      }
      entries.push(entry);
    });
    return entries;
  });

export function isPoolEntry(entry: ModelEntry): entry is PoolModelEntry {
  return "template" in entry;
}

/** Ids of the models the GPU pool serves, from the raw var; [] when it does not parse (workers/config.ts reports why). */
export function poolModelIds(modelsVar: string | undefined): string[] {
  let json: unknown;
  try {
    json = JSON.parse(modelsVar ?? "[]");
  } catch {
    return [];
  }
  const parsed = ModelEntries.safeParse(json);
  return parsed.success ? parsed.data.filter(isPoolEntry).map((entry) => entry.id) : [];
}

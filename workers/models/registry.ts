/**
 * The model runtime registry: each `MODELS` entry becomes one runtime. The kind of upstream is
 * data — a table from provider protocol to builder, beside the pool — so adding a provider
 * protocol is one entry here, adding a prompt family one entry in workers/prompt/families/, and
 * the generation path never changes.
 */
import { promptRuntime } from "../prompt/index.js";
import { isPoolEntry, type ModelEntry, type ProviderModelEntry } from "./model-config.js";
import { buildPoolRuntime } from "./pool-runtime.js";
import { buildProviderRuntime } from "./provider-runtime.js";
import type { ModelRuntime } from "./runtime.js";

/** Builders by provider protocol (pool models have no `provider`). */
const PROVIDERS: Record<ProviderModelEntry["provider"], (entry: ProviderModelEntry) => ModelRuntime> = {
  "openai-compatible": buildProviderRuntime,
};

export function buildRuntime(entry: ModelEntry): ModelRuntime {
  if (isPoolEntry(entry)) return buildPoolRuntime(entry, promptRuntime(entry.template, entry.tokenizer));
  return PROVIDERS[entry.provider](entry);
}

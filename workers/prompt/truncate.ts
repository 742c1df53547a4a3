/**
 * The Vicuna-only fitToContext from before the multi-family prompt layer, kept as a thin wrapper
 * until its caller moves to fitToContext in index.ts (fit.ts).
 */
import { fitToContext as fitAnyToContext, type FitResult } from "./fit.js";
import { promptRuntime } from "./render.js";
import type { VicunaConversation } from "./vicuna.js";

export type { FitResult };

/** @deprecated use FitInput from index.ts (adds runtime and truncate) */
export interface FitInput {
  conversation: VicunaConversation;
  contextLength: number;
  maxTokens: number | null;
  defaultMaxTokens: number;
}

const vicuna = promptRuntime("vicuna_v1.1", "llama");

/** @deprecated use fitToContext from index.ts with { runtime: promptRuntime("vicuna_v1.1"), truncate: true } */
export function fitToContext(input: FitInput): FitResult {
  return fitAnyToContext({ ...input, runtime: vicuna, truncate: true });
}

/**
 * A stable hash of a prompt's leading token blocks, for prefix-affinity routing: requests that
 * share their first blocks (a common system prompt, the start of one conversation) hash alike,
 * so routing can send them to the worker whose vLLM prefix cache already holds those blocks.
 * Pure and synchronous (crypto.subtle is async and overkill for a routing key).
 */

/** vLLM's default KV-cache block size: only full blocks are ever prefix-cached. */
export const PREFIX_BLOCK_TOKENS = 16;

/**
 * Blocks hashed by default: 64 tokens cover the default Vicuna system prompt (34 tokens
 * with BOS and " USER:") plus the start of the first user message, which tells conversations
 * apart while still grouping requests that share a long custom system prompt.
 */
export const DEFAULT_PREFIX_BLOCKS = 4;

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** A short stable hash of the first `blocks` full 16-token blocks of a token prompt (fewer if the prompt is shorter), used by routing to send requests sharing a prefix (e.g. a common system prompt) to the same worker. Returns "" when the prompt has no full block (nothing vLLM could reuse). */
export function prefixHash(tokens: readonly number[], blocks: number = DEFAULT_PREFIX_BLOCKS): string {
  if (!Number.isInteger(blocks) || blocks < 0) throw new RangeError(`blocks must be a non-negative integer, got ${blocks}`);
  const fullBlocks = Math.min(blocks, Math.floor(tokens.length / PREFIX_BLOCK_TOKENS));
  const length = fullBlocks * PREFIX_BLOCK_TOKENS;
  if (length === 0) return "";
  // FNV-1a over the little-endian bytes of each id (ids are < 2^32).
  let hash = FNV64_OFFSET;
  for (let i = 0; i < length; i++) {
    const id = tokens[i]!;
    for (let shift = 0; shift < 32; shift += 8) {
      hash ^= BigInt((id >>> shift) & 0xff);
      hash = (hash * FNV64_PRIME) & MASK64;
    }
  }
  return hash.toString(16).padStart(16, "0");
}

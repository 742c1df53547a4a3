/**
 * Cheap non-cryptographic 32-bit hashing for routing: FNV-1a over a string's UTF-16 code units,
 * finished with MurmurHash3's avalanche (fmix32). Not for anything security-related: an attacker
 * who picks conversation ids can at worst pin their own conversations to one worker, which the
 * load gate then breaks.
 */

const FNV_OFFSET_32 = 0x811c9dc5;
const FNV_PRIME_32 = 0x01000193;

/** MurmurHash3's finaliser: every input bit flips about half of the output bits. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of the string's code units, mixed; an unsigned 32-bit integer. */
export function hashString32(s: string): number {
  let h = FNV_OFFSET_32;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME_32);
  }
  // FNV's low bits avalanche poorly for short, similar strings (worker-1, worker-2, ...).
  return mix32(h);
}

/**
 * Rendezvous (highest-random-weight) score of a worker for a key, both given as their 32-bit
 * hashes. The XOR of two well-mixed hashes fed through another avalanche gives scores that are
 * independent across workers for a key, so the argmax is uniform and removing a worker only
 * changes the argmax of the keys it held.
 */
export function rendezvousScore(keyHash: number, workerHash: number): number {
  return mix32((keyHash ^ workerHash) >>> 0);
}

/**
 * English-like user messages for bench:turns, from a seeded PRNG and word lists: every message
 * is new (the gateway's per-isolate encode cache can never have seen it), while one seed gives
 * the same run every time. Sentences mix short function words with longer content words,
 * punctuation and the odd number, so they tokenize like prose (about 1.3 tokens a word), not
 * like a list of one-token words. Pure.
 */

/** mulberry32: a small, fast 32-bit PRNG; `next()` is uniform in [0, 1). */
export function prng(seed: number): { next(): number; int(n: number): number; pick<T>(items: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

const OPENERS = [
  "Could you explain", "I was wondering", "Tell me more about", "Please describe", "What do you think about",
  "Yesterday I read", "My colleague asked", "In our team we discussed", "I am trying to understand", "Can you compare",
  "Last week we noticed", "Help me plan", "Why would anyone prefer", "How should I approach", "Suppose that",
];
const DETERMINERS = ["the", "a", "this", "that", "every", "some", "our", "their", "another", "each"];
const ADJECTIVES = [
  "quiet", "distant", "reliable", "unexpected", "careful", "ancient", "modern", "fragile", "generous", "stubborn",
  "curious", "practical", "seasonal", "remote", "crowded", "delicate", "efficient", "honest", "gradual", "vivid",
  "woolly", "mountainous", "experimental", "affordable", "complicated", "temporary", "permanent", "northern", "coastal", "tiny",
];
const NOUNS = [
  "llama", "alpaca", "village", "market", "harvest", "railway", "library", "kitchen", "glacier", "festival",
  "notebook", "algorithm", "database", "bridge", "orchard", "telescope", "river", "workshop", "schedule", "budget",
  "recipe", "museum", "garden", "satellite", "highland", "weaver", "shepherd", "volcano", "compiler", "lantern",
  "manuscript", "caravan", "plateau", "greenhouse", "microscope", "symphony", "harbour", "blanket", "journey", "theory",
];
const VERBS = [
  "carries", "explains", "changes", "protects", "measures", "follows", "builds", "describes", "remembers", "improves",
  "connects", "questions", "replaces", "supports", "reveals", "organises", "predicts", "borrows", "celebrates", "ignores",
];
const ADVERBS = ["slowly", "carefully", "surprisingly", "rarely", "often", "quietly", "eventually", "almost", "really", "perhaps"];
const PREPOSITIONS = ["near", "beyond", "under", "across", "without", "during", "behind", "above", "between", "around"];
const CONNECTIVES = ["and", "but", "because", "although", "while", "so", "unless", "whereas"];
const CLOSERS = ["?", ".", ".", ".", "!", "?"];

function phrase(r: ReturnType<typeof prng>): string {
  const adjective = r.next() < 0.6 ? `${r.pick(ADJECTIVES)} ` : "";
  return `${r.pick(DETERMINERS)} ${adjective}${r.pick(NOUNS)}`;
}

function clause(r: ReturnType<typeof prng>): string {
  const adverb = r.next() < 0.35 ? `${r.pick(ADVERBS)} ` : "";
  const place = r.next() < 0.5 ? ` ${r.pick(PREPOSITIONS)} ${phrase(r)}` : "";
  const number = r.next() < 0.12 ? ` in ${1800 + r.int(225)}` : "";
  return `${phrase(r)} ${adverb}${r.pick(VERBS)} ${phrase(r)}${place}${number}`;
}

function sentence(r: ReturnType<typeof prng>): string {
  let body = r.next() < 0.4 ? `${r.pick(OPENERS)} how ${clause(r)}` : clause(r);
  if (r.next() < 0.45) body += `, ${r.pick(CONNECTIVES)} ${clause(r)}`;
  return body.charAt(0).toUpperCase() + body.slice(1) + r.pick(CLOSERS);
}

/** One user message of `sentences` sentences from `r`. */
export function userMessage(r: ReturnType<typeof prng>, sentences: number): string {
  const parts: string[] = [];
  for (let i = 0; i < sentences; i++) parts.push(sentence(r));
  return parts.join(" ");
}

/**
 * The arena's data cleaning, as Chatbot Arena cleans its votes before fitting. Pure functions over
 * stored vote records; the caller loads them, these decide which ones count.
 *
 * 1. Identity leaks. A vote stops being blind once a model names itself ("As Vicuna, …"), so a
 *    vote on a battle in which either side's answers contain one of that side's own identity words
 *    is dropped. Only a model's own words count against it: a model that claims to be someone else
 *    reveals nothing true. Matching is case-insensitive on whole words: a word counts when it is
 *    not preceded or followed by a letter or digit (any script), so "Vicuna", "vicuna-13b" and
 *    "Vicuna's" match "vicuna" but "Vicunas" and "vicunaX" do not; a phrase ("large model
 *    systems") matches across any run of whitespace. A record may carry a precomputed
 *    `identityLeaked` flag instead of the texts (the API can decide when the answers are stored);
 *    a flag, when present, wins.
 * 2. Votes per voter per day. At most N votes of one voter per UTC day count: the first N by cast
 *    time (ties broken by vote id, so the choice does not depend on the order rows were loaded).
 */

/** Model id → words or phrases that would reveal it ("vicuna", "lmsys", "large model systems"). */
export type IdentityWords = Readonly<Record<string, readonly string[]>>;

/** What the leak filter reads from a stored vote. */
export interface LeakCheckInput {
  modelA: string;
  modelB: string;
  /** Every answer slot A gave in the battle (all turns), when the texts are at hand. */
  answersA?: readonly string[];
  answersB?: readonly string[];
  /** Precomputed verdict; overrides the texts when present. */
  identityLeaked?: boolean;
}

/** What the per-voter cap reads from a stored vote. */
export interface CapInput {
  /** Stable vote id: breaks ties between votes cast in the same millisecond. */
  id: string;
  /** Hashed voter (end user or key). */
  voterId: string;
  /** When the vote was cast, Unix ms. */
  castAtMs: number;
}

export interface VoteFilterConfig {
  identityWords: IdentityWords;
  /** Votes that count per voter per UTC day; Infinity for no cap. */
  maxVotesPerVoterPerDay: number;
}

export interface FilteredVotes<T> {
  /** Votes that count, in input order. */
  kept: T[];
  dropped: { identityLeak: number; voterCap: number };
}

const MS_PER_DAY = 86_400_000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One case-insensitive whole-word pattern for a model's words; null when it has none. */
export function identityPattern(words: readonly string[]): RegExp | null {
  const alternatives = words
    .map((w) => w.trim())
    .filter((w) => w !== "")
    .map((w) => w.split(/\s+/).map(escapeRegExp).join("\\s+"));
  if (alternatives.length === 0) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join("|")})(?![\\p{L}\\p{N}])`, "iu");
}

/** Whether `text` names the model through any of `words` (the rule in the module comment). */
export function mentionsIdentity(text: string, words: readonly string[]): boolean {
  return identityPattern(words)?.test(text) ?? false;
}

/**
 * A leak check with every model's pattern compiled once. Throws for a record with neither a flag
 * nor the texts: silently keeping it would let unchecked votes through.
 */
export function createIdentityLeakCheck(identityWords: IdentityWords): (vote: LeakCheckInput) => boolean {
  const patterns = new Map<string, RegExp | null>();
  for (const [model, words] of Object.entries(identityWords)) patterns.set(model, identityPattern(words));
  const sideLeaks = (model: string, answers: readonly string[]): boolean => {
    const pattern = patterns.get(model);
    return pattern != null && answers.some((text) => pattern.test(text));
  };
  return (vote) => {
    if (vote.identityLeaked !== undefined) return vote.identityLeaked;
    if (vote.answersA === undefined || vote.answersB === undefined) {
      throw new TypeError(`vote ${vote.modelA} vs ${vote.modelB} has neither identityLeaked nor both sides' answers`);
    }
    return sideLeaks(vote.modelA, vote.answersA) || sideLeaks(vote.modelB, vote.answersB);
  };
}

/** The UTC day number of a Unix ms time (days since 1970-01-01). */
export function utcDay(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

/** Keeps at most `maxPerDay` votes per voter per UTC day, the earliest; returns them in input order. */
export function capVotesPerVoterPerDay<T extends CapInput>(votes: readonly T[], maxPerDay: number): T[] {
  if (maxPerDay === Infinity) return [...votes];
  if (!Number.isInteger(maxPerDay) || maxPerDay < 0) throw new RangeError("maxVotesPerVoterPerDay must be an integer ≥ 0 or Infinity");
  const order = votes.map((_, i) => i);
  order.sort((x, y) => {
    const a = votes[x]!;
    const b = votes[y]!;
    return a.castAtMs - b.castAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  const countByVoterDay = new Map<string, number>();
  const keep = new Uint8Array(votes.length);
  for (const i of order) {
    const v = votes[i]!;
    // The day is digits (maybe a minus) and comes first, so "day voter" is unambiguous whatever the id holds.
    const key = `${utcDay(v.castAtMs)} ${v.voterId}`;
    const seen = countByVoterDay.get(key) ?? 0;
    if (seen < maxPerDay) keep[i] = 1;
    countByVoterDay.set(key, seen + 1);
  }
  return votes.filter((_, i) => keep[i] === 1);
}

/**
 * Both filters: identity leaks first (a leaked vote should not use up a voter's daily quota),
 * then the per-voter cap over what remains.
 */
export function filterVotes<T extends LeakCheckInput & CapInput>(votes: readonly T[], config: VoteFilterConfig): FilteredVotes<T> {
  const leaks = createIdentityLeakCheck(config.identityWords);
  const blind = votes.filter((v) => !leaks(v));
  const kept = capVotesPerVoterPerDay(blind, config.maxVotesPerVoterPerDay);
  return { kept, dropped: { identityLeak: votes.length - blind.length, voterCap: blind.length - kept.length } };
}

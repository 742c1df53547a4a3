/**
 * Reading the judge's verdicts, strictly: a rating is `[[n]]` with n from 1 to 10 (decimals
 * allowed), a comparison is `[[A]]`, `[[B]]` or `[[C]]` (a tie). A reply with no verdict in that
 * form, or with two different ones, is unparsed — never guessed from loose text such as "8/10" or
 * "Assistant A is better".
 */

export type PairVerdict = "A" | "B" | "tie";

/** The rating in `text`, or null when there is none in `[[n]]` form or the text gives two different ones. */
export function parseRating(text: string): number | null {
  const found = new Set<number>();
  for (const match of text.matchAll(/\[\[\s*(\d+(?:\.\d+)?)\s*\]\]/g)) {
    const value = Number(match[1]);
    if (value < 1 || value > 10) return null;
    found.add(value);
  }
  return found.size === 1 ? [...found][0]! : null;
}

/** The verdict in `text`, or null when there is none in `[[A]]`/`[[B]]`/`[[C]]` form or the text gives two different ones. */
export function parsePairVerdict(text: string): PairVerdict | null {
  const found = new Set<PairVerdict>();
  for (const match of text.matchAll(/\[\[\s*([ABC])\s*\]\]/g)) found.add(match[1] === "C" ? "tie" : (match[1] as "A" | "B"));
  return found.size === 1 ? [...found][0]! : null;
}

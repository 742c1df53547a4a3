/**
 * Text with a known LLaMA token count, for driving the real gateway with the cluster workload's
 * token lengths: words that are each exactly one token (with their leading space), drawn from a
 * seeded random stream so different messages differ from their first token on.
 */
import { getTokenizer } from "../../workers/prompt/index.js";

const llama = getTokenizer("llama");

const CANDIDATE_WORDS = (
  "the of and to in is was for on that with as by at from his her they have had are were this which " +
  "be or an not but all one two new more some time other when there what can would about into only " +
  "people year like after first also well way could work may then them these over any most good make " +
  "just very long little world great small water light river stone north green place home house state " +
  "city day night school old high hand part end under life name line right left found need word side " +
  "land sea air fire tree book road war king game music story art power body face head love food car"
).split(" ");

let verifiedWords: readonly string[] | null = null;

/** The candidate words that encode to exactly one token after a space (checked once). */
export function singleTokenWords(): readonly string[] {
  verifiedWords ??= CANDIDATE_WORDS.filter((w) => llama.encode(` ${w}`, { leadingSpace: false }).length === 1);
  return verifiedWords;
}

/** `tokens` words joined by spaces: `tokens` LLaMA tokens (with the dummy prefix at the start of a text). */
export function textOfTokens(tokens: number, random: () => number): string {
  const words = singleTokenWords();
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) out.push(words[Math.floor(random() * words.length)]!);
  return out.join(" ");
}

/**
 * The judge's prompts, written for this project's protocol. Four shapes: one answer rated 1–10
 * (turn 1, or turn 2 with the whole dialogue in view) and two answers compared (turn 1, or turn 2
 * with both dialogues in view). The reference answer is shown when the question's category has
 * one. Every prompt ends by stating the exact output format, which verdicts.ts parses and nothing
 * else: `[[7]]`, or `[[A]]` / `[[B]]` / `[[C]]`.
 */
import type { ChatMessage } from "./openai-client.js";

const SINGLE_SYSTEM =
  "You are an impartial evaluator of AI assistants. You read a user's request and one assistant's answer, " +
  "and rate the answer on a scale from 1 (useless or wrong) to 10 (excellent). Weigh, in this order: " +
  "correctness (facts, arithmetic, code that runs), helpfulness (does it do what was asked, within the stated constraints), " +
  "relevance, depth and useful detail, and clarity. Length is not quality: do not reward padding or repetition. " +
  "When a reference answer is given, treat it as correct and lower the rating for every disagreement with it. " +
  "First explain your judgement in a few sentences, then give the rating on its own line in exactly this form: [[rating]], " +
  "for example [[6]].";

const PAIR_SYSTEM =
  "You are an impartial evaluator of AI assistants. You read a user's request and the answers of two assistants, " +
  "A and B, and decide which answer is better. Weigh, in this order: correctness (facts, arithmetic, code that runs), " +
  "helpfulness (does it do what was asked, within the stated constraints), relevance, depth and useful detail, and clarity. " +
  "The order in which the answers are shown must not influence you, nor their length, nor the assistants' names. " +
  "When a reference answer is given, treat it as correct and prefer the answer that agrees with it. " +
  "First compare the answers in a few sentences, then give your verdict on its own line in exactly one of these forms: " +
  "[[A]] if A is better, [[B]] if B is better, [[C]] for a tie.";

function referenceBlock(reference: readonly string[] | null, turns: number): string {
  if (!reference) return "";
  const parts = reference.slice(0, turns).map((r, i) => (turns > 1 ? `Reference answer to question ${i + 1}:\n${r}` : `Reference answer:\n${r}`));
  return `\n\n[Reference]\n${parts.join("\n\n")}\n[End of reference]`;
}

function dialogue(questions: readonly string[], answers: readonly string[], who: string): string {
  return questions.map((q, i) => `User:\n${q}\n\n${who}:\n${answers[i] ?? ""}`).join("\n\n");
}

/** Rates the answer to `turn` (1 or 2); turn 2 shows the whole dialogue and asks about the second answer only. */
export function singlePrompt(input: { questions: readonly string[]; answers: readonly string[]; turn: 1 | 2; reference: readonly string[] | null }): ChatMessage[] {
  const { turn } = input;
  const user =
    turn === 1
      ? `[Request]\n${input.questions[0]}${referenceBlock(input.reference, 1)}\n\n[Answer]\n${input.answers[0]}\n[End of answer]\n\nRate the answer.`
      : `[Dialogue]\n${dialogue(input.questions.slice(0, 2), input.answers.slice(0, 2), "Assistant")}\n[End of dialogue]${referenceBlock(input.reference, 2)}\n\n` +
        "Rate only the assistant's second answer, as a reply to the user's second request in the light of the whole dialogue.";
  return [
    { role: "system", content: SINGLE_SYSTEM },
    { role: "user", content: user },
  ];
}

/** Compares answers A and B to `turn`; turn 2 shows each assistant's whole dialogue and asks about the second answers. */
export function pairPrompt(input: {
  questions: readonly string[];
  answersA: readonly string[];
  answersB: readonly string[];
  turn: 1 | 2;
  reference: readonly string[] | null;
}): ChatMessage[] {
  const { turn } = input;
  const user =
    turn === 1
      ? `[Request]\n${input.questions[0]}${referenceBlock(input.reference, 1)}\n\n[Answer A]\n${input.answersA[0]}\n[End of answer A]\n\n` +
        `[Answer B]\n${input.answersB[0]}\n[End of answer B]\n\nWhich answer is better?`
      : `[Dialogue with assistant A]\n${dialogue(input.questions.slice(0, 2), input.answersA.slice(0, 2), "Assistant A")}\n[End of dialogue with assistant A]\n\n` +
        `[Dialogue with assistant B]\n${dialogue(input.questions.slice(0, 2), input.answersB.slice(0, 2), "Assistant B")}\n[End of dialogue with assistant B]` +
        `${referenceBlock(input.reference, 2)}\n\nCompare only the assistants' second answers, as replies to the user's second request in the light of each dialogue.`;
  return [
    { role: "system", content: PAIR_SYSTEM },
    { role: "user", content: user },
  ];
}

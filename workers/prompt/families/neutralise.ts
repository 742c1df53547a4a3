/**
 * Text neutralising shared by the families. Pure.
 */

// U+2060 WORD JOINER: invisible, a single token in the LLaMA and Mistral vocabularies, and it
// breaks a marker's token sequence without changing what a reader sees.
export const MARKER_BREAK = "\u2060";

// Lone UTF-16 surrogates cannot be tokenized (UTF-8 has no encoding for them); the tokenizer
// would see U+FFFD, so the text rendering shows U+FFFD as well.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// U+2581 is SentencePiece's own mark for a space: the tokenizer cannot tell a literal one from a
// space, so the model reads it as a space and the text rendering shows a space too.
const SPACE_MARK = /\u2581/g;

/** Text as a SentencePiece tokenizer reads it: lone surrogates → U+FFFD, "▁" → space. */
export function sentencePieceText(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD").replace(SPACE_MARK, " ");
}

/**
 * A neutraliser: SentencePiece clean-up, then `pattern` (global) replaced by `replacement`,
 * which puts MARKER_BREAK inside every match. Text without a match is returned unchanged.
 */
export function markerBreaker(pattern: RegExp, replacement: string): (text: string) => string {
  if (!pattern.global) throw new Error("marker patterns must be global");
  return (text) => sentencePieceText(text).replace(pattern, replacement);
}

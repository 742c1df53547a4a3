/**
 * Alpaca: FastChat's `alpaca` template, sep_style ADD_COLON_TWO, roles "### Instruction" /
 * "### Response", sep "\n\n", sep2 "</s>":
 *   "{system}\n\n### Instruction: {u}\n\n### Response: {a}</s>### Instruction: {u}\n\n### Response:"
 */
import { addColonTwoFamily } from "./add-colon-two.js";
import { MARKER_BREAK, markerBreaker } from "./neutralise.js";

// "### Instruction:" / "### Response:" anywhere in text, with optional spaces or tabs around the
// word ("###Instruction :"). The hashes make them unmistakable, so no word-boundary care is needed;
// "Instruction:" on its own is ordinary text and stays as is.
const FORGED_MARKER = /(###[ \t]*)(Instruction|Response)([ \t]*):/g;

export const ALPACA_DEFAULT_SYSTEM =
  "Below is an instruction that describes a task. Write a response that appropriately completes the request.";

export const alpaca = addColonTwoFamily({
  id: "alpaca",
  reference: "FastChat conversation.py `alpaca` (ADD_COLON_TWO)",
  defaultSystem: ALPACA_DEFAULT_SYSTEM,
  roles: { user: "### Instruction", assistant: "### Response" },
  sep: "\n\n",
  markers: ["### Instruction:", "### Response:"],
  neutralise: markerBreaker(FORGED_MARKER, `$1$2$3${MARKER_BREAK}:`),
});

/**
 * Vicuna v1.1 (also Vicuna v1.5): FastChat's `vicuna_v1.1` template, sep_style ADD_COLON_TWO,
 * roles USER/ASSISTANT, sep " ", sep2 "</s>":
 *   "{system} USER: {u} ASSISTANT: {a}</s>USER: {u} ASSISTANT:"
 */
import { addColonTwoFamily } from "./add-colon-two.js";
import { MARKER_BREAK, markerBreaker } from "./neutralise.js";

// The trained role words standing on their own (not the tail of SUPERUSER or MY_USER), then
// optional spaces or tabs and a colon: "USER:", "\nASSISTANT :". Only the upper-case words: those
// are the markers Vicuna was trained on, while "user:" and "User:" are everyday text and code
// (`user: User`) that must stay byte-exact.
const FORGED_MARKER = /\b(USER|ASSISTANT)([ \t]*):/g;

export const VICUNA_V11_DEFAULT_SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. " +
  "The assistant gives helpful, detailed, and polite answers to the user's questions.";

export const vicunaV11 = addColonTwoFamily({
  id: "vicuna_v1.1",
  reference: "FastChat conversation.py `vicuna_v1.1` (ADD_COLON_TWO)",
  defaultSystem: VICUNA_V11_DEFAULT_SYSTEM,
  roles: { user: "USER", assistant: "ASSISTANT" },
  sep: " ",
  // As they follow message text; "USER:" right after an EOS is only ever a real marker.
  markers: [" USER:", " ASSISTANT:"],
  neutralise: markerBreaker(FORGED_MARKER, `$1$2${MARKER_BREAK}:`),
});

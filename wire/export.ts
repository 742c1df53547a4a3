/**
 * The training-data export's wire (`GET /admin/export/conversations`, NDJSON): one line per
 * consented conversation, then a cursor line. `npm run export` reads it; export/ cleans it.
 */
import { z } from "zod";
import type { SameShape } from "./openai.js";

export interface ExportMessage {
  role: "user" | "assistant";
  content: string;
  /** Assistant messages: how the generation ended; null for user messages. */
  status: "complete" | "length" | "cancelled" | "failed" | null;
  /** 👍 and 👎 on this message, across every end user who rated it (0 and 0 on user messages). */
  feedback: { up: number; down: number };
}

export interface ExportConversation {
  object: "export.conversation";
  id: string;
  model: string;
  /** Unix seconds. */
  created_at: number;
  system_prompt: string | null;
  /** Oldest first. End users are not named anywhere in an export. */
  messages: ExportMessage[];
}

/**
 * `GET /admin/export/models`: how each served model renders a conversation, so the export can
 * count a segment's tokens exactly as training will render it.
 */
export type ExportModel =
  | { id: string; kind: "pool"; template: string; tokenizer: string | null; context_length: number }
  | { id: string; kind: "provider"; tokenizer: string | null; context_length: number };

export interface ExportModelList {
  object: "list";
  data: ExportModel[];
}

export const ExportModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(
    z.discriminatedUnion("kind", [
      z.object({ id: z.string(), kind: z.literal("pool"), template: z.string(), tokenizer: z.string().nullable(), context_length: z.number().int() }),
      z.object({ id: z.string(), kind: z.literal("provider"), tokenizer: z.string().nullable(), context_length: z.number().int() }),
    ]),
  ),
});
const modelListMatches: SameShape<z.infer<typeof ExportModelListSchema>, ExportModelList> = true;
void modelListMatches;

/** The page's last line: the cursor to pass as `after` for the next page, null after the last. */
export interface ExportCursorLine {
  object: "export.cursor";
  next: string | null;
  /** Conversations on this page. */
  count: number;
}

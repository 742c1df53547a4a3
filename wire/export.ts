/**
 * The training-data export's wire (`GET /admin/export/conversations`, NDJSON): one line per
 * consented conversation, then a cursor line. `npm run export` reads it; export/ cleans it.
 */

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

/** The page's last line: the cursor to pass as `after` for the next page, null after the last. */
export interface ExportCursorLine {
  object: "export.cursor";
  next: string | null;
  /** Conversations on this page. */
  count: number;
}

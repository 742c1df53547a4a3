/**
 * One message of the transcript, an `article` named by its author. The user's own text is shown
 * as typed (plain text); replies are Markdown. The last user message can be edited and resent;
 * replies carry their feedback controls and say when they were stopped, cut off or failed.
 */
import { useState } from "preact/hooks";
import type { UiMessage } from "../chat/messages.js";
import type { FeedbackChange } from "../chat/use-chat.js";
import { FeedbackControls } from "./FeedbackControls.js";
import { Markdown } from "./Markdown.js";
import { submitsOnEnter } from "./keys.js";

export function MessageView(props: {
  message: UiMessage;
  modelName: string;
  canEdit: boolean;
  onEdit: (text: string) => Promise<boolean>;
  onFeedback: (change: FeedbackChange) => Promise<void>;
}) {
  const { message } = props;
  const author = message.role === "user" ? "You" : props.modelName || "Assistant";
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.content);
  const streaming = message.status === "streaming";

  const submitEdit = async (): Promise<void> => {
    const text = draft.trim();
    if (text === "") return;
    setEditing(false);
    if (!(await props.onEdit(text))) setEditing(true);
  };

  return (
    <article class={`message ${message.role}`} aria-label={author} aria-busy={streaming ? "true" : undefined}>
      <div class="message-author">{author}</div>
      {message.droppedMessages > 0 && (
        <p class="note">
          {message.droppedMessages} older message{message.droppedMessages === 1 ? " was" : "s were"} left out of this answer's context to fit the model's window.
        </p>
      )}
      {editing ? (
        <form
          class="edit-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submitEdit();
          }}
        >
          <textarea
            aria-label="Edit message"
            value={draft}
            rows={3}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (submitsOnEnter(e)) {
                e.preventDefault();
                void submitEdit();
              } else if (e.key === "Escape") setEditing(false);
            }}
          />
          <div class="row">
            <button type="submit" class="primary small-button">
              Send edit
            </button>
            <button type="button" class="small-button" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : message.role === "user" ? (
        <div class="user-text">{message.content}</div>
      ) : (
        <Markdown text={message.content} />
      )}
      {streaming && message.content === "" && <p class="muted small typing">Thinking…</p>}
      {message.status === "cancelled" && <p class="status-note">Stopped</p>}
      {message.status === "length" && <p class="status-note">Cut off at the length limit</p>}
      {message.status === "failed" && <p class="status-note error">{message.error ?? "The answer failed part-way."}</p>}
      {message.role === "user" && props.canEdit && !editing && (
        <div class="message-actions">
          <button
            type="button"
            class="link-button small"
            onClick={() => {
              setDraft(message.content);
              setEditing(true);
            }}
          >
            Edit
          </button>
        </div>
      )}
      {message.role === "assistant" && !streaming && message.id !== null && <FeedbackControls feedback={message.feedback} onChange={props.onFeedback} />}
    </article>
  );
}

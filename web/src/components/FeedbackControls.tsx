/** Thumbs up, thumbs down and flag on an assistant message, with an optional comment. */
import { useState } from "preact/hooks";
import type { MessageFeedback } from "../api/schemas.js";
import type { FeedbackChange } from "../chat/use-chat.js";
import { FlagIcon, ThumbDownIcon, ThumbUpIcon } from "./icons.js";

const COMMENT_MAX_CHARS = 2000;

export function FeedbackControls({ feedback, onChange }: { feedback: MessageFeedback | null; onChange: (change: FeedbackChange) => Promise<void> }) {
  const rating = feedback?.rating ?? null;
  const flagged = feedback?.flagged ?? false;
  const [commenting, setCommenting] = useState(false);
  const [comment, setComment] = useState(feedback?.comment ?? "");

  return (
    <div class="feedback">
      <div class="feedback-buttons" role="group" aria-label="Feedback on this answer">
        <button type="button" class="icon-button" aria-label="Thumbs up" title="Good answer" aria-pressed={rating === "up"} onClick={() => void onChange({ rating: rating === "up" ? null : "up" })}>
          <ThumbUpIcon />
        </button>
        <button
          type="button"
          class="icon-button"
          aria-label="Thumbs down"
          title="Bad answer"
          aria-pressed={rating === "down"}
          onClick={() => {
            if (rating !== "down") setCommenting(true);
            void onChange({ rating: rating === "down" ? null : "down" });
          }}
        >
          <ThumbDownIcon />
        </button>
        <button
          type="button"
          class="icon-button"
          aria-label="Flag"
          title="Flag as harmful or wrong"
          aria-pressed={flagged}
          onClick={() => {
            if (!flagged) setCommenting(true);
            void onChange({ flagged: !flagged });
          }}
        >
          <FlagIcon />
        </button>
        <button type="button" class="link-button small" aria-expanded={commenting} onClick={() => setCommenting(!commenting)}>
          {feedback?.comment ? "Edit comment" : "Comment"}
        </button>
      </div>
      {commenting && (
        <form
          class="comment-form"
          onSubmit={(e) => {
            e.preventDefault();
            void onChange({ comment: comment.trim() === "" ? null : comment.trim() }).then(() => setCommenting(false));
          }}
        >
          <label class="small">
            Comment (optional)
            <textarea rows={2} maxLength={COMMENT_MAX_CHARS} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </label>
          <div class="row">
            <button type="submit" class="primary small-button">
              Save comment
            </button>
            <button type="button" class="small-button" onClick={() => setCommenting(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

/**
 * The transcript: a `role="log"` region of messages that follows a streaming answer down unless
 * the reader has scrolled up to read something else.
 */
import { useLayoutEffect, useRef } from "preact/hooks";
import type { UiMessage } from "../chat/messages.js";
import type { FeedbackChange } from "../chat/use-chat.js";
import { MessageView } from "./MessageView.js";

const NEAR_BOTTOM_PX = 80;

export function Transcript(props: {
  messages: UiMessage[];
  systemPrompt: string | null;
  modelName: string;
  busy: boolean;
  onEdit: (key: string, text: string) => Promise<boolean>;
  onFeedback: (key: string, change: FeedbackChange) => Promise<void>;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stickRef.current) el.scrollTop = el.scrollHeight;
  }, [props.messages]);

  let lastUser = -1;
  props.messages.forEach((m, i) => {
    if (m.role === "user") lastUser = i;
  });

  return (
    <div
      class="transcript"
      ref={ref}
      role="log"
      aria-label="Transcript"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
      }}
    >
      <div class="transcript-inner">
        {props.systemPrompt && (
          <details class="system-prompt">
            <summary>System prompt</summary>
            <p>{props.systemPrompt}</p>
          </details>
        )}
        {props.messages.map((m, i) => (
          <MessageView
            key={m.key}
            message={m}
            modelName={props.modelName}
            canEdit={i === lastUser && !props.busy && m.id !== null}
            onEdit={(text) => props.onEdit(m.key, text)}
            onFeedback={(change) => props.onFeedback(m.key, change)}
          />
        ))}
      </div>
    </div>
  );
}

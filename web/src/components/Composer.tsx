/**
 * The message box with Send, and for the chat Stop (while an answer streams) and Regenerate; the
 * arena uses it without those for its questions. Enter sends, Shift+Enter is a newline.
 */
import { useRef, useState } from "preact/hooks";
import { RegenerateIcon, SendIcon, StopIcon } from "./icons.js";
import { submitsOnEnter } from "./keys.js";

export function Composer(props: {
  busy: boolean;
  onSend: (text: string) => Promise<boolean>;
  /** Without it, a busy box shows Send disabled. */
  onStop?: () => void;
  canRegenerate?: boolean;
  onRegenerate?: () => void;
  /** The box's accessible name (default "Message") and placeholder (default: the name). */
  label?: string;
  placeholder?: string;
  class?: string;
}) {
  const label = props.label ?? "Message";
  const [text, setText] = useState("");
  const boxRef = useRef<HTMLTextAreaElement>(null);

  const submit = async (): Promise<void> => {
    const content = text.trim();
    if (content === "" || props.busy) return;
    setText("");
    const focusedAtSend = document.activeElement;
    const accepted = await props.onSend(content);
    // A refused message goes back in the box, unless something new was typed meanwhile.
    if (!accepted) setText((now) => (now === "" ? content : now));
    // Back to the box for the next message, unless the visitor moved on during the answer (to the
    // Share for training switch, say): a keyboard user's focus is never taken from under them.
    const focusedNow = document.activeElement;
    if (focusedNow === null || focusedNow === document.body || focusedNow === focusedAtSend) boxRef.current?.focus();
  };

  return (
    <form
      class={props.class ? `composer ${props.class}` : "composer"}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={boxRef}
        class="message-box"
        aria-label={label}
        placeholder={props.placeholder ?? label}
        rows={1}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (submitsOnEnter(e)) {
            e.preventDefault();
            void submit();
          }
        }}
      />
      <div class="composer-actions">
        {props.canRegenerate && props.onRegenerate && !props.busy && (
          <button type="button" onClick={props.onRegenerate}>
            <RegenerateIcon />
            <span>Regenerate</span>
          </button>
        )}
        {props.busy && props.onStop ? (
          <button type="button" class="stop" onClick={props.onStop}>
            <StopIcon />
            <span>Stop</span>
          </button>
        ) : (
          <button type="submit" class="primary" disabled={props.busy || text.trim() === ""}>
            <SendIcon />
            <span>Send</span>
          </button>
        )}
      </div>
    </form>
  );
}

/** The question box: the first question starts a battle, later ones go to both sides. Enter sends, Shift+Enter is a newline. */
import { useRef, useState } from "preact/hooks";
import { SendIcon } from "../components/icons.js";
import { submitsOnEnter } from "../components/keys.js";

export function ArenaComposer(props: { busy: boolean; followUp: boolean; onAsk: (question: string) => Promise<boolean> }) {
  const [text, setText] = useState("");
  const boxRef = useRef<HTMLTextAreaElement>(null);

  const submit = async (): Promise<void> => {
    const question = text.trim();
    if (question === "" || props.busy) return;
    setText("");
    const accepted = await props.onAsk(question);
    if (!accepted) setText((now) => (now === "" ? question : now));
    boxRef.current?.focus();
  };

  return (
    <form
      class="composer arena-composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        ref={boxRef}
        class="message-box"
        aria-label="Question"
        placeholder={props.followUp ? "Ask both models a follow-up" : "Ask both models a question"}
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
        <button type="submit" class="primary" disabled={props.busy || text.trim() === ""}>
          <SendIcon />
          <span>Send</span>
        </button>
      </div>
    </form>
  );
}

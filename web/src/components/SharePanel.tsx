/**
 * Share links: publish a read-only snapshot of this conversation (later turns are not included
 * until shared again), copy its URL, or revoke it.
 */
import { useEffect, useState } from "preact/hooks";
import * as api from "../api/client.js";
import { errorWords } from "../api/errors.js";
import type { Share } from "../api/schemas.js";
import { copyText } from "./clipboard.js";
import { CloseIcon } from "./icons.js";

type State = { kind: "loading" } | { kind: "none" } | { kind: "shared"; share: Share };

export function SharePanel({ conversationId, messageCount, onClose }: { conversationId: string; messageCount: number; onClose: () => void }) {
  const [state, setState] = useState<State>({ kind: "loading" });
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    let live = true;
    setState({ kind: "loading" });
    api
      .getShare(conversationId)
      .then((share) => live && setState(share ? { kind: "shared", share } : { kind: "none" }))
      .catch((err: unknown) => live && (setError(errorWords(err)), setState({ kind: "none" })));
    return () => {
      live = false;
    };
  }, [conversationId]);

  const act = async (action: () => Promise<State>): Promise<void> => {
    setError(null);
    setCopied(false);
    try {
      setState(await action());
    } catch (err) {
      setError(errorWords(err));
    }
  };
  const publish = () => act(async () => ({ kind: "shared", share: await api.shareConversation(conversationId) }));
  const revoke = () => act(async () => (await api.revokeShare(conversationId), { kind: "none" }));

  return (
    <section id="share-panel" class="share-panel" aria-label="Share this chat">
      <div class="share-head">
        <h3>Share this chat</h3>
        <button type="button" class="icon-button" aria-label="Close sharing" onClick={onClose}>
          <CloseIcon />
        </button>
      </div>
      {state.kind === "loading" && <p class="muted small">Checking for a link…</p>}
      {state.kind === "none" && (
        <>
          <p class="small">Anyone with the link can read this chat as it is now — not your key, your name or later messages.</p>
          <button type="button" class="primary" onClick={() => void publish()} disabled={messageCount === 0}>
            Create link
          </button>
        </>
      )}
      {state.kind === "shared" && (
        <>
          <label for="share-url">Share link</label>
          <div class="share-url-row">
            <input id="share-url" readOnly value={state.share.url} onFocus={(e) => e.currentTarget.select()} />
            <button type="button" onClick={() => void copyText(state.share.url).then(setCopied)}>
              {copied ? "Copied" : "Copy link"}
            </button>
          </div>
          <p class="muted small">
            The link shows {state.share.message_count} message{state.share.message_count === 1 ? "" : "s"}.
            {messageCount > state.share.message_count && " Newer messages are not included until you update it."}
          </p>
          <div class="share-actions">
            <button type="button" onClick={() => void publish()}>
              Update link
            </button>
            <button type="button" class="danger" onClick={() => void revoke()}>
              Revoke link
            </button>
          </div>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

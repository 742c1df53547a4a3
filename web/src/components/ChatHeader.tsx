/** The open conversation's title and model, with Share for training, Rename, Share and Delete. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Conversation } from "../api/schemas.js";
import { conversationTitle } from "../chat/messages.js";
import { LinkIcon, PencilIcon, TrashIcon } from "./icons.js";

export function ChatHeader(props: {
  conversation: Conversation;
  shareOpen: boolean;
  onToggleShare: () => void;
  onRename: (title: string) => Promise<void>;
  onDelete: () => Promise<void>;
  onTrainingConsent: (consent: boolean) => Promise<void>;
}) {
  const title = conversationTitle(props.conversation.metadata);
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState(title);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    setRenaming(false);
    setConfirmingDelete(false);
  }, [props.conversation.id]);
  useEffect(() => {
    if (renaming) inputRef.current?.select();
  }, [renaming]);

  if (renaming) {
    return (
      <div class="chat-header">
        <form
          class="rename-form"
          onSubmit={(e) => {
            e.preventDefault();
            void props.onRename(draft).then(() => setRenaming(false));
          }}
        >
          <label class="visually-hidden" for="rename-input">
            Chat title
          </label>
          <input id="rename-input" ref={inputRef} value={draft} maxLength={200} onInput={(e) => setDraft(e.currentTarget.value)} onKeyDown={(e) => e.key === "Escape" && setRenaming(false)} />
          <button type="submit" class="primary">
            Save
          </button>
          <button type="button" onClick={() => setRenaming(false)}>
            Cancel
          </button>
        </form>
      </div>
    );
  }

  return (
    <div class="chat-header">
      <div class="chat-title">
        <h2>{title}</h2>
        <p class="muted small">Model: {props.conversation.model}</p>
      </div>
      <TrainingConsentSwitch checked={props.conversation.training_consent} onChange={(consent) => void props.onTrainingConsent(consent)} />
      {confirmingDelete ? (
        <div class="confirm" role="group" aria-label="Delete this chat?">
          <span>Delete this chat?</span>
          <button type="button" class="danger" onClick={() => void props.onDelete()}>
            Delete
          </button>
          <button type="button" onClick={() => setConfirmingDelete(false)}>
            Keep
          </button>
        </div>
      ) : (
        <div class="header-actions">
          <button
            type="button"
            class="icon-button"
            aria-label="Rename"
            title="Rename"
            onClick={() => {
              setDraft(title);
              setRenaming(true);
            }}
          >
            <PencilIcon />
          </button>
          <button type="button" class="icon-button" aria-label="Share" title="Share" aria-expanded={props.shareOpen} aria-controls="share-panel" onClick={props.onToggleShare}>
            <LinkIcon />
          </button>
          <button type="button" class="icon-button" aria-label="Delete chat" title="Delete chat" onClick={() => setConfirmingDelete(true)}>
            <TrashIcon />
          </button>
        </div>
      )}
    </div>
  );
}

const CONSENT_HELP = "Allow this chat to be exported as training data. You can withdraw it any time.";

/** A switch for the chat's `training_consent`; its explanation shows on hover and is read as its description. */
function TrainingConsentSwitch(props: { checked: boolean; onChange: (consent: boolean) => void }) {
  return (
    <div class="consent-switch" title={CONSENT_HELP}>
      <label>
        <input type="checkbox" role="switch" checked={props.checked} aria-describedby="consent-help" onChange={(e) => props.onChange(e.currentTarget.checked)} />
        <span class="consent-track" aria-hidden="true" />
        <span class="consent-label">Share for training</span>
      </label>
      <span id="consent-help" class="visually-hidden">
        {CONSENT_HELP}
      </span>
    </div>
  );
}

/** The conversation list, newest first, with "New chat"; a drawer on narrow screens. */
import type { Conversation } from "../api/schemas.js";
import { conversationTitle } from "../chat/messages.js";
import { PlusIcon } from "./icons.js";

export function Sidebar(props: {
  open: boolean;
  conversations: Conversation[];
  currentId: string | null;
  hasMore: boolean;
  onSelect: (id: string) => void;
  onNewChat: () => void;
  onLoadMore: () => void;
  onClose: () => void;
}) {
  return (
    <>
      <nav id="conversations" class={props.open ? "sidebar open" : "sidebar"} aria-label="Conversations">
        <button type="button" class="new-chat primary" onClick={props.onNewChat}>
          <PlusIcon />
          <span>New chat</span>
        </button>
        <h2 class="sidebar-heading">Conversations</h2>
        {props.conversations.length === 0 ? (
          <p class="muted small empty-list">No conversations yet.</p>
        ) : (
          <ul class="conversation-list">
            {props.conversations.map((c) => (
              <li key={c.id}>
                <a
                  href={`#/c/${encodeURIComponent(c.id)}`}
                  aria-current={c.id === props.currentId ? "page" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    props.onSelect(c.id);
                  }}
                >
                  <span class="conversation-title">{conversationTitle(c.metadata)}</span>
                  <span class="conversation-meta">
                    {c.model} · <time dateTime={new Date(c.created_at * 1000).toISOString()}>{formatDate(c.created_at)}</time>
                  </span>
                </a>
              </li>
            ))}
          </ul>
        )}
        {props.hasMore && (
          <button type="button" class="load-more" onClick={props.onLoadMore}>
            Show older
          </button>
        )}
      </nav>
      {props.open && <div class="backdrop" onClick={props.onClose} aria-hidden="true" />}
    </>
  );
}

function formatDate(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : date.toLocaleDateString();
}

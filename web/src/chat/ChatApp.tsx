/** The signed-in chat page: top bar, conversation drawer, the open chat and the message box. */
import { useEffect, useState } from "preact/hooks";
import * as api from "../api/client.js";
import { errorWords, isSignedOut } from "../api/errors.js";
import type { SessionView } from "../api/schemas.js";
import { ChatHeader } from "../components/ChatHeader.js";
import { Composer } from "../components/Composer.js";
import { MenuIcon } from "../components/icons.js";
import { NewChatOptions } from "../components/NewChatOptions.js";
import { PageNav } from "../components/PageNav.js";
import { SharePanel } from "../components/SharePanel.js";
import { Sidebar } from "../components/Sidebar.js";
import { ThemeToggle } from "../components/ThemeToggle.js";
import { Transcript } from "../components/Transcript.js";
import { useChat, type NewChatSettings } from "./use-chat.js";

export function ChatApp({ session, onSignOut, onSignedOut }: { session: SessionView & { signed_in: true }; onSignOut: () => void; onSignedOut: () => void }) {
  const chat = useChat({ onSignedOut });
  const [models, setModels] = useState<string[]>([]);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [settings, setSettings] = useState<NewChatSettings>({ model: "", systemPrompt: "" });
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [shareOpen, setShareOpen] = useState(false);

  useEffect(() => {
    api
      .listModels()
      .then((ids) => {
        setModels(ids);
        setSettings((s) => (s.model === "" && ids[0] ? { ...s, model: ids[0] } : s));
      })
      .catch((err: unknown) => (isSignedOut(err) ? onSignedOut() : setModelsError(`The model list did not load (${errorWords(err)}); a new chat uses the gateway's default model.`)));
  }, [onSignedOut]);

  useEffect(() => {
    setShareOpen(false);
    setDrawerOpen(false);
  }, [chat.current?.id]);

  useEffect(() => {
    if (!drawerOpen) return;
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === "Escape") setDrawerOpen(false);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [drawerOpen]);

  const last = chat.messages[chat.messages.length - 1];
  const canRegenerate = chat.current !== null && last?.role === "assistant" && last.status !== "streaming";
  const modelName = chat.current?.model ?? settings.model;
  const who = session.kind === "visitor" ? "Demo visitor" : session.name;

  return (
    <div class="app">
      <header class="topbar with-nav">
        <button type="button" class="icon-button menu-button" aria-label="Conversations" aria-expanded={drawerOpen} aria-controls="conversations" onClick={() => setDrawerOpen(!drawerOpen)}>
          <MenuIcon />
        </button>
        <h1 class="brand">Altiplano</h1>
        <PageNav current="chat" admin={session.kind === "key" && session.role === "admin"} />
        <span class="who muted small" title={who}>
          {who}
        </span>
        <ThemeToggle />
        <button type="button" class="sign-out" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <Sidebar
          open={drawerOpen}
          conversations={chat.conversations}
          currentId={chat.current?.id ?? null}
          hasMore={chat.hasMore}
          onSelect={(id) => {
            setDrawerOpen(false);
            void chat.open(id);
          }}
          onNewChat={() => {
            setDrawerOpen(false);
            setSettings((s) => ({ ...s, systemPrompt: "" }));
            chat.newChat();
          }}
          onLoadMore={() => void chat.loadMore()}
          onClose={() => setDrawerOpen(false)}
        />
        <main class="chat">
          {chat.current !== null && (
            <ChatHeader conversation={chat.current} shareOpen={shareOpen} onToggleShare={() => setShareOpen(!shareOpen)} onRename={chat.rename} onDelete={chat.remove} onTrainingConsent={chat.setTrainingConsent} />
          )}
          {chat.current !== null && shareOpen && (
            <SharePanel conversationId={chat.current.id} messageCount={chat.messages.filter((m) => m.id !== null).length} onClose={() => setShareOpen(false)} />
          )}
          {chat.notice && (
            <div class="banner" role="alert">
              <span>{chat.notice}</span>
              <button type="button" class="link-button" onClick={chat.dismissNotice}>
                Dismiss
              </button>
            </div>
          )}
          {chat.current === null && chat.messages.length === 0 && !chat.loading ? (
            <div class="transcript empty">
              <NewChatOptions models={models} modelsError={modelsError} settings={settings} onChange={setSettings} />
            </div>
          ) : (
            <Transcript messages={chat.messages} systemPrompt={chat.current?.system_prompt ?? null} modelName={modelName} busy={chat.busy} onEdit={chat.editAndResend} onFeedback={chat.setFeedback} />
          )}
          <Composer busy={chat.busy} canRegenerate={canRegenerate} onSend={(text) => chat.send(text, settings)} onStop={chat.stop} onRegenerate={() => void chat.regenerate()} />
        </main>
      </div>
    </div>
  );
}


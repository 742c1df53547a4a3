/**
 * The chat page's state and what the visitor can do with it: the conversation list, the open
 * conversation and its transcript, streamed turns (send, Stop, Regenerate, edit and resend),
 * rename, delete, feedback and the training-data consent — each a call to the ordinary `/v1` routes. A refused turn puts
 * everything back as it was (the gateway stored nothing); a stopped one keeps its partial answer.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import * as api from "../api/client.js";
import { ApiError, errorWords, isSignedOut } from "../api/errors.js";
import type { Conversation, MessageFeedback } from "../api/schemas.js";
import { fromStored, newMessage, titleFrom, type UiMessage } from "./messages.js";
import { conversationIdFromUrl, showConversationInUrl } from "./route.js";

export interface NewChatSettings {
  model: string;
  systemPrompt: string;
}

export type FeedbackChange = Partial<MessageFeedback>;

export interface Chat {
  conversations: Conversation[];
  hasMore: boolean;
  current: Conversation | null;
  messages: UiMessage[];
  /** A turn is streaming. */
  busy: boolean;
  loading: boolean;
  /** The last error, in words; cleared by the next action. */
  notice: string | null;
  dismissNotice(): void;
  loadMore(): Promise<void>;
  open(id: string): Promise<void>;
  newChat(): void;
  /** Sends a message; false when the gateway refused it (the text should go back in the box). */
  send(text: string, settings: NewChatSettings): Promise<boolean>;
  stop(): void;
  regenerate(): Promise<void>;
  editAndResend(messageKey: string, text: string): Promise<boolean>;
  rename(title: string): Promise<void>;
  remove(): Promise<void>;
  /** Shares the open chat for training (or withdraws it): shown at once, put back if the gateway refuses. */
  setTrainingConsent(consent: boolean): Promise<void>;
  setFeedback(messageKey: string, change: FeedbackChange): Promise<void>;
}

type TurnOutcome = "done" | "stopped" | "failed" | "refused";

export function useChat(options: { onSignedOut: () => void }): Chat {
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [current, setCurrent] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<UiMessage[]>([]);
  const [busy, setBusy] = useState(false);
  const [loading, setLoading] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  const currentIdRef = useRef<string | null>(null);
  const messagesRef = useRef<UiMessage[]>([]);
  messagesRef.current = messages;
  /** Counts consent changes, so only the latest one's answer (or failure) decides what shows. */
  const consentSeqRef = useRef(0);
  const consentQueueRef = useRef<Promise<void>>(Promise.resolve());
  const { onSignedOut } = options;

  const fail = useCallback(
    (err: unknown, context: { model?: string } = {}) => {
      if (isSignedOut(err)) onSignedOut();
      else setNotice(errorWords(err, context));
    },
    [onSignedOut],
  );

  const patchMessage = (key: string, patch: Partial<UiMessage>): void => {
    setMessages((list) => list.map((m) => (m.key === key ? { ...m, ...patch } : m)));
  };

  /**
   * Takes a metadata update's answer. Its training_consent is not taken: a consent change made
   * while it was in flight is newer (setTrainingConsent alone decides what the switch shows).
   */
  const replaceConversation = (conversation: Conversation): void => {
    const merge = (c: Conversation): Conversation => ({ ...conversation, training_consent: c.training_consent });
    setConversations((list) => list.map((c) => (c.id === conversation.id ? merge(c) : c)));
    if (currentIdRef.current === conversation.id) setCurrent((c) => (c !== null && c.id === conversation.id ? merge(c) : conversation));
  };

  const refreshList = useCallback(async () => {
    try {
      const page = await api.listConversations();
      setConversations(page.data);
      setHasMore(page.hasMore);
    } catch (err) {
      fail(err);
    }
  }, [fail]);

  const loadMore = async (): Promise<void> => {
    const last = conversations[conversations.length - 1];
    if (!last) return;
    try {
      const page = await api.listConversations(last.id);
      setConversations((list) => [...list, ...page.data.filter((c) => !list.some((o) => o.id === c.id))]);
      setHasMore(page.hasMore);
    } catch (err) {
      fail(err);
    }
  };

  const stop = (): void => {
    abortRef.current?.abort();
  };

  const newChat = (): void => {
    stop();
    currentIdRef.current = null;
    setCurrent(null);
    setMessages([]);
    setNotice(null);
    showConversationInUrl(null);
  };

  const open = useCallback(
    async (id: string, options: { replaceUrl?: boolean } = {}) => {
      abortRef.current?.abort();
      currentIdRef.current = id;
      showConversationInUrl(id, { replace: options.replaceUrl });
      setNotice(null);
      setLoading(true);
      try {
        const found = await api.getConversation(id);
        if (currentIdRef.current !== id) return;
        const { messages: stored, ...conversation } = found;
        setCurrent(conversation);
        setMessages(stored.map(fromStored));
      } catch (err) {
        if (currentIdRef.current !== id) return;
        currentIdRef.current = null;
        setCurrent(null);
        setMessages([]);
        showConversationInUrl(null, { replace: true });
        if (err instanceof ApiError && err.status === 404) setNotice("That chat was not found: it may have been deleted, or it belongs to someone else.");
        else fail(err);
      } finally {
        setLoading(false);
      }
    },
    [fail],
  );

  // First load: the list, and the conversation the URL names; then follow back/forward.
  useEffect(() => {
    void refreshList();
    const fromUrl = conversationIdFromUrl();
    if (fromUrl !== null) void open(fromUrl, { replaceUrl: true });
    const onHashChange = (): void => {
      const id = conversationIdFromUrl();
      if (id === currentIdRef.current) return;
      if (id === null) {
        abortRef.current?.abort();
        currentIdRef.current = null;
        setCurrent(null);
        setMessages([]);
      } else void open(id, { replaceUrl: true });
    };
    addEventListener("hashchange", onHashChange);
    return () => removeEventListener("hashchange", onHashChange);
  }, [refreshList, open]);

  /**
   * Streams one turn into a new assistant message after `before` (and the user's message, when
   * sending); `restore` is the transcript to put back if the gateway refuses the turn. Text is
   * applied at most once per animation frame, so a fast stream does not re-render per token.
   */
  const runTurn = async (
    conversation: Conversation,
    turn: api.TurnRequest,
    before: UiMessage[],
    restore: UiMessage[],
  ): Promise<TurnOutcome> => {
    const controller = new AbortController();
    abortRef.current = controller;
    const user = turn.kind === "send" ? newMessage("user", turn.content, null) : null;
    const reply = newMessage("assistant", "", "streaming");
    setMessages([...before, ...(user ? [user] : []), reply]);
    setBusy(true);
    setNotice(null);
    let text = "";
    let frame: number | null = null;
    let started = false;
    const flush = (): void => {
      frame = null;
      patchMessage(reply.key, { content: text });
    };
    try {
      const end = await api.streamTurn(conversation.id, turn, {
        signal: controller.signal,
        onStart: (start) => {
          started = true;
          if (user && start.userMessageId) patchMessage(user.key, { id: start.userMessageId });
          patchMessage(reply.key, { id: start.assistantMessageId, droppedMessages: start.droppedMessages });
        },
        onDelta: (delta) => {
          text += delta;
          frame ??= requestAnimationFrame(flush);
        },
      });
      if (end.finishReason === null) {
        // The connection closed without the stream's end: the gateway keeps what arrived.
        patchMessage(reply.key, { content: text, status: "failed", error: "The answer was cut off: the connection closed before it finished." });
        return "failed";
      }
      patchMessage(reply.key, { content: text, status: end.finishReason === "length" ? "length" : "complete" });
      return "done";
    } catch (err) {
      if (controller.signal.aborted) {
        patchMessage(reply.key, { content: text, status: "cancelled" });
        return "stopped";
      }
      if (!started) {
        setMessages(restore);
        fail(err, { model: conversation.model });
        return "refused";
      }
      if (isSignedOut(err)) onSignedOut();
      patchMessage(reply.key, { content: text, status: "failed", error: errorWords(err, { model: conversation.model }) });
      return "failed";
    } finally {
      if (frame !== null) cancelAnimationFrame(frame);
      if (abortRef.current === controller) abortRef.current = null;
      setBusy(false);
    }
  };

  const send = async (text: string, settings: NewChatSettings): Promise<boolean> => {
    if (busy) return false;
    let conversation = current;
    const isNew = conversation === null;
    if (conversation === null) {
      try {
        const system = settings.systemPrompt.trim();
        // No model chosen yet (the list still loading): the gateway's default model answers.
        conversation = await api.createConversation({
          ...(settings.model !== "" ? { model: settings.model } : {}),
          ...(system !== "" ? { system_prompt: system } : {}),
        });
      } catch (err) {
        fail(err, { model: settings.model });
        return false;
      }
      currentIdRef.current = conversation.id;
      setCurrent(conversation);
      setConversations((list) => [conversation!, ...list]);
      showConversationInUrl(conversation.id, { replace: true });
    }
    const before = messagesRef.current;
    const outcome = await runTurn(conversation, { kind: "send", content: text }, before, before);
    if (isNew && outcome !== "refused") {
      try {
        replaceConversation(await api.updateMetadata(conversation.id, { ...conversation.metadata, title: titleFrom(text) }));
      } catch (err) {
        fail(err);
      }
    }
    return outcome !== "refused";
  };

  const regenerate = async (): Promise<void> => {
    const list = messagesRef.current;
    const last = list[list.length - 1];
    if (busy || current === null || last?.role !== "assistant") return;
    await runTurn(current, { kind: "regenerate" }, list.slice(0, -1), list);
  };

  const editAndResend = async (messageKey: string, text: string): Promise<boolean> => {
    const list = messagesRef.current;
    const index = list.findIndex((m) => m.key === messageKey);
    const target = list[index];
    if (busy || current === null || !target?.id || target.role !== "user") return false;
    const outcome = await runTurn(current, { kind: "send", content: text, replaces: target.id }, list.slice(0, index), list);
    return outcome !== "refused";
  };

  const rename = async (title: string): Promise<void> => {
    if (current === null) return;
    const { title: _old, ...rest } = current.metadata;
    const metadata = title.trim() === "" ? rest : { ...rest, title: title.replace(/\s+/g, " ").trim().slice(0, 200) };
    try {
      replaceConversation(await api.updateMetadata(current.id, metadata));
    } catch (err) {
      fail(err);
    }
  };

  const remove = async (): Promise<void> => {
    if (current === null) return;
    const id = current.id;
    try {
      await api.deleteConversation(id);
      setConversations((list) => list.filter((c) => c.id !== id));
      newChat();
    } catch (err) {
      fail(err);
    }
  };

  const showConsent = (id: string, consent: boolean): void => {
    const patch = (c: Conversation): Conversation => (c.id === id ? { ...c, training_consent: consent } : c);
    setConversations((list) => list.map(patch));
    setCurrent((c) => (c === null ? c : patch(c)));
  };

  const setTrainingConsent = async (consent: boolean): Promise<void> => {
    if (current === null) return;
    const { id, training_consent: before } = current;
    const seq = ++consentSeqRef.current;
    showConsent(id, consent);
    setNotice(null);
    // One change at a time, in the order they were made: quick toggles must not reach the
    // gateway out of order and leave it showing an older choice than the page.
    const previous = consentQueueRef.current;
    const change = previous.then(() => api.setTrainingConsent(id, consent));
    consentQueueRef.current = change.then(
      () => undefined,
      () => undefined,
    );
    try {
      const saved = await change;
      if (seq === consentSeqRef.current) showConsent(id, saved.training_consent);
    } catch (err) {
      // A later change is waiting its turn: its answer decides what shows.
      if (seq !== consentSeqRef.current) return;
      showConsent(id, before);
      if (isSignedOut(err)) onSignedOut();
      else if (err instanceof ApiError && err.status === 404) setNotice("Sharing for training was not changed: this chat was not found. It may have been deleted.");
      else setNotice(`Sharing for training was not changed: ${errorWords(err)}`);
    }
  };

  const setFeedback = async (messageKey: string, change: FeedbackChange): Promise<void> => {
    const message = messagesRef.current.find((m) => m.key === messageKey);
    if (current === null || !message?.id) return;
    const before = message.feedback;
    const merged: MessageFeedback = { rating: null, flagged: false, comment: null, ...before, ...change };
    patchMessage(messageKey, { feedback: merged });
    try {
      const saved = await api.sendFeedback(current.id, message.id, change);
      patchMessage(messageKey, { feedback: { rating: saved.rating, flagged: saved.flagged, comment: saved.comment } });
    } catch (err) {
      patchMessage(messageKey, { feedback: before });
      fail(err);
    }
  };

  return {
    conversations,
    hasMore,
    current,
    messages,
    busy,
    loading,
    notice,
    dismissNotice: () => setNotice(null),
    loadMore,
    open: (id) => open(id),
    newChat,
    send,
    stop,
    regenerate,
    editAndResend,
    rename,
    remove,
    setTrainingConsent,
    setFeedback,
  };
}

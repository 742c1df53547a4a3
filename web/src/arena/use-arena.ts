/**
 * The arena page's state and actions: ask (a new battle, or a follow-up both sides answer), vote,
 * start a new battle, and reopen the battle the URL names. Streamed text is applied at most once
 * per animation frame, so two fast streams do not re-render per token.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import * as arenaApi from "../api/arena-client.js";
import type { ArenaBattle, ArenaWinner } from "../api/arena-schemas.js";
import { ApiError, isSignedOut } from "../api/errors.js";
import { applyEvent, arenaErrorWords, askQuestion, canAsk, emptyView, endTurn, isStreaming, viewFromStored, withBattle, type BattleView } from "./battle.js";
import { battleIdFromUrl, showBattleInUrl } from "./route.js";

export interface Arena {
  view: BattleView;
  /** Reopening the battle the URL names. */
  loading: boolean;
  /** A vote is on its way. */
  voting: boolean;
  /** The last error, in words; cleared by the next action. */
  notice: string | null;
  dismissNotice(): void;
  /** Asks both sides; false when the gateway refused (the text should go back in the box). */
  ask(question: string, systemPrompt: string): Promise<boolean>;
  vote(winner: ArenaWinner): Promise<void>;
  newBattle(): void;
}

/**
 * Votes; while the gateway still counts the last turn as running (409 `battle_busy`, a moment
 * after both answers ended) it waits as `retry-after` says and tries again, a few times.
 */
async function voteWhenNotBusy(battleId: string, winner: ArenaWinner): Promise<ArenaBattle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await arenaApi.vote(battleId, winner);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409 && err.code === "battle_busy") || attempt >= BUSY_VOTE_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(5, err.retryAfterSeconds ?? 1) * 1000));
    }
  }
}

const BUSY_VOTE_ATTEMPTS = 4;

const CUT_OFF = "The answer was cut off: the connection closed before it finished.";

export function useArena(options: { onSignedOut: () => void }): Arena {
  const [view, setView] = useState<BattleView>(() => emptyView());
  const viewRef = useRef(view);
  const frameRef = useRef<number | null>(null);
  const abortRef = useRef<AbortController | null>(null);
  const [loading, setLoading] = useState(false);
  const [voting, setVoting] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const { onSignedOut } = options;

  const fail = useCallback(
    (err: unknown) => {
      if (isSignedOut(err)) onSignedOut();
      else setNotice(arenaErrorWords(err));
    },
    [onSignedOut],
  );

  /** `now`: render at once; otherwise at the next animation frame (stream deltas). */
  const commit = useCallback((next: BattleView, now: boolean) => {
    viewRef.current = next;
    if (now) {
      if (frameRef.current !== null) cancelAnimationFrame(frameRef.current);
      frameRef.current = null;
      setView(next);
    } else {
      frameRef.current ??= requestAnimationFrame(() => {
        frameRef.current = null;
        setView(viewRef.current);
      });
    }
  }, []);

  const ask = async (question: string, systemPrompt: string): Promise<boolean> => {
    const before = viewRef.current;
    if (!canAsk(before) || isStreaming(before)) return false;
    const battleId = before.battle?.id ?? null;
    const start = battleId === null ? emptyView(systemPrompt.trim() === "" ? null : systemPrompt) : before;
    commit(askQuestion(start, question), true);
    setNotice(null);
    const controller = new AbortController();
    abortRef.current = controller;
    let received = false;
    try {
      const end = await arenaApi.streamBattleTurn(
        battleId === null ? { kind: "create", content: question, systemPrompt: start.systemPrompt } : { kind: "turn", battleId, content: question },
        {
          signal: controller.signal,
          onEvent: (event) => {
            if (controller.signal.aborted) return;
            received = true;
            commit(applyEvent(viewRef.current, event), event.type !== "delta");
            if (event.type === "battle" && battleId === null) showBattleInUrl(event.battle.id);
          },
        },
      );
      if (!controller.signal.aborted) commit(endTurn(viewRef.current, end.done ? "This side ended without an answer." : CUT_OFF), true);
      return true;
    } catch (err) {
      if (controller.signal.aborted) return true;
      if (!received) {
        // Refused before anything streamed: the gateway stored nothing, so the page is as before.
        commit(before, true);
        fail(err);
        return false;
      }
      commit(endTurn(viewRef.current, arenaErrorWords(err)), true);
      fail(err);
      return true;
    } finally {
      if (abortRef.current === controller) abortRef.current = null;
    }
  };

  const vote = async (winner: ArenaWinner): Promise<void> => {
    const battle = viewRef.current.battle;
    if (battle === null || voting) return;
    setVoting(true);
    setNotice(null);
    try {
      const voted = await voteWhenNotBusy(battle.id, winner);
      if (viewRef.current.battle?.id === battle.id) commit(withBattle(viewRef.current, voted), true);
    } catch (err) {
      fail(err);
      // A conflict means the page is behind the gateway: show the battle as it stands.
      if (err instanceof ApiError && err.status === 409) {
        const stored = await arenaApi.getBattle(battle.id).catch(() => null);
        if (stored !== null && viewRef.current.battle?.id === battle.id) {
          const { messages: _messages, ...current } = stored;
          commit(withBattle(viewRef.current, current), true);
        }
      }
    } finally {
      setVoting(false);
    }
  };

  const newBattle = (): void => {
    abortRef.current?.abort();
    abortRef.current = null;
    commit(emptyView(), true);
    setNotice(null);
    showBattleInUrl(null);
  };

  // First load: the battle the URL names, as stored.
  useEffect(() => {
    const id = battleIdFromUrl();
    if (id === null) return;
    setLoading(true);
    arenaApi
      .getBattle(id)
      .then((stored) => {
        if (viewRef.current.turns.length === 0) commit(viewFromStored(stored), true);
      })
      .catch((err: unknown) => {
        showBattleInUrl(null);
        if (err instanceof ApiError && err.status === 404) setNotice("That battle was not found: it may belong to someone else.");
        else fail(err);
      })
      .finally(() => setLoading(false));
  }, [commit, fail]);
  useEffect(() => () => abortRef.current?.abort(), []);

  return { view, loading, voting, notice, dismissNotice: () => setNotice(null), ask, vote, newBattle };
}

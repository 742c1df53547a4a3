/**
 * One side of a battle, "Model A" or "Model B": every question and this side's answers, streamed
 * as Markdown. The model's name shows only once the gateway gives it (after the vote).
 */
import { Fragment } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { ArenaSlot } from "../api/arena-schemas.js";
import { Markdown } from "../components/Markdown.js";
import type { BattleTurn } from "./battle.js";

const NEAR_BOTTOM_PX = 80;

export function ArenaPane(props: { slot: ArenaSlot; turns: BattleTurn[]; model: string | null; picked: boolean }) {
  const name = `Model ${props.slot.toUpperCase()}`;
  const ref = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stickRef.current) el.scrollTop = el.scrollHeight;
  }, [props.turns]);

  return (
    <section class={`arena-pane${props.picked ? " picked" : ""}`} aria-labelledby={`pane-${props.slot}-title`} data-slot={props.slot}>
      <div class="pane-head">
        <h2 id={`pane-${props.slot}-title`}>{name}</h2>
        {props.model !== null ? (
          <span class="pane-model">{props.model}</span>
        ) : (
          <span class="pane-model muted small">name shown after your vote</span>
        )}
        {props.picked && <span class="pane-pick small">Your pick</span>}
      </div>
      <div
        class="pane-log"
        ref={ref}
        role="log"
        aria-label={`${name}'s answers`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
        }}
      >
        {props.turns.map((turn, i) => {
          const answer = turn[props.slot];
          const streaming = answer.status === "streaming";
          return (
            <Fragment key={i}>
              <article class="message user" aria-label="You">
                <div class="user-text">{turn.question}</div>
              </article>
              <article class="message assistant" aria-label={name} aria-busy={streaming ? "true" : undefined}>
                <Markdown text={answer.content} />
                {streaming && answer.content === "" && <p class="muted small typing">Thinking…</p>}
                {answer.status === "length" && <p class="status-note">Cut off at the length limit</p>}
                {answer.status === "cancelled" && <p class="status-note">Stopped</p>}
                {answer.status === "failed" && (
                  <p class="status-note error" role="alert">
                    {answer.error ?? "This side's answer failed."}
                  </p>
                )}
              </article>
            </Fragment>
          );
        })}
      </div>
    </section>
  );
}

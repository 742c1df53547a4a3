/** The arena's routes as the pages call them (signed in by the session cookie, as the chat is). */
import {
  ArenaBattleSchema,
  ArenaBattleWithMessagesSchema,
  ArenaLeaderboardSchema,
  type ArenaBattle,
  type ArenaBattleWithMessages,
  type ArenaLeaderboard,
  type ArenaStreamEvent,
  type ArenaWinner,
} from "./arena-schemas.js";
import { readArenaStream, type ArenaStreamEnd } from "./arena-stream.js";
import { json, request } from "./client.js";
import { ApiError } from "./errors.js";

const battle = (id: string): string => `/v1/arena/battles/${encodeURIComponent(id)}`;

/** A new battle (`create`, its first question) or a follow-up turn of one: both sides stream into `onEvent`. */
export async function streamBattleTurn(
  target: { kind: "create"; content: string; systemPrompt: string | null } | { kind: "turn"; battleId: string; content: string },
  handlers: { signal?: AbortSignal; onEvent: (event: ArenaStreamEvent) => void },
): Promise<ArenaStreamEnd> {
  const path = target.kind === "create" ? "/v1/arena/battles" : `${battle(target.battleId)}/turns`;
  const body =
    target.kind === "create"
      ? { content: target.content, ...(target.systemPrompt ? { system_prompt: target.systemPrompt } : {}), stream: true }
      : { content: target.content, stream: true };
  const res = await request("POST", path, { body, signal: handlers.signal });
  if (!res.body) throw new ApiError(502, "The gateway sent no answer body.");
  return readArenaStream(res.body, handlers.onEvent);
}

export const vote = (battleId: string, winner: ArenaWinner): Promise<ArenaBattle> => json(ArenaBattleSchema, "POST", `${battle(battleId)}/vote`, { winner });

export const getBattle = (battleId: string): Promise<ArenaBattleWithMessages> => json(ArenaBattleWithMessagesSchema, "GET", battle(battleId));

export const getLeaderboard = (): Promise<ArenaLeaderboard> => json(ArenaLeaderboardSchema, "GET", "/v1/leaderboard");

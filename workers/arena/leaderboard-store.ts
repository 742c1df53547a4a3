/**
 * The leaderboard as the API serves it: fitted from the stored votes (anonymous battles only,
 * filtered as vote-filters.ts says) and kept in one D1 row, so a page view reads a row and never
 * refits. The cron trigger refits on its schedule; a read of a leaderboard older than
 * ARENA_LEADERBOARD_MAX_AGE_SECONDS (or of none yet) refits at once; operators can force it.
 */
import { desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import type { ArenaLeaderboard, LeaderboardJudge } from "../../wire/arena.js";
import { EvalResultsSchema } from "../../wire/evals.js";
import { getConfig, type GatewayConfig } from "../config.js";
import type { Env } from "../env.js";
import { arenaLeaderboard, evalRuns } from "../db/schema.js";
import { buildLeaderboard } from "./leaderboard.js";
import { filterVotes, type IdentityWords } from "./vote-filters.js";

/** The single row's key. */
const LEADERBOARD_ROW = 1;
/** Votes read per D1 query, so a fit over millions of votes never asks D1 for one huge result. */
const VOTES_PAGE = 10_000;

const StoredVote = z.object({
  rowid: z.number(),
  battleId: z.string(),
  modelA: z.string(),
  modelB: z.string(),
  winner: z.enum(["a", "b", "tie", "bothbad"]),
  voterHash: z.string(),
  votedAt: z.number(),
  identityLeaked: z.number(),
});
type StoredVote = z.infer<typeof StoredVote>;

/** Every vote of an anonymous battle, in insertion order, a page at a time. */
async function loadRatedVotes(db: D1Database): Promise<StoredVote[]> {
  const votes: StoredVote[] = [];
  let after = 0;
  for (;;) {
    const { results } = await db
      .prepare(
        `SELECT rowid, battle_id AS battleId, model_a AS modelA, model_b AS modelB, winner, voter_hash AS voterHash,
                voted_at AS votedAt, identity_leaked AS identityLeaked
         FROM arena_votes WHERE anonymous = 1 AND rowid > ?1 ORDER BY rowid LIMIT ?2`,
      )
      .bind(after, VOTES_PAGE)
      .all();
    const page = z.array(StoredVote).parse(results);
    votes.push(...page);
    if (page.length < VOTES_PAGE) return votes;
    after = page[page.length - 1]!.rowid;
  }
}

/** The leaderboard of these stored votes under this configuration. Pure apart from the clock value passed in. */
export function leaderboardOf(votes: readonly StoredVote[], config: GatewayConfig, now: number, judge: LeaderboardJudge | null): ArenaLeaderboard {
  // The leak verdict was taken when each vote was cast (from its answers and the words then
  // configured); the filter reads the stored flag.
  const identityWords: IdentityWords = {};
  const filtered = filterVotes(
    votes.map((v) => ({ ...v, id: v.battleId, voterId: v.voterHash, castAtMs: v.votedAt, identityLeaked: v.identityLeaked === 1 })),
    { identityWords, maxVotesPerVoterPerDay: config.arena.maxVotesPerVoterPerDay },
  );
  const { anchor } = config.arena;
  const board = buildLeaderboard(filtered.kept, {
    bootstrapRounds: config.arena.bootstrapRounds,
    ...(anchor.model === null ? { meanRating: anchor.rating } : { anchor: { model: anchor.model, rating: anchor.rating }, meanRating: anchor.rating }),
  });
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    object: "arena.leaderboard",
    computed_at: Math.floor(now / 1000),
    votes_total: votes.length,
    votes_counted: filtered.kept.length,
    votes_dropped: { identity_leak: filtered.dropped.identityLeak, voter_cap: filtered.dropped.voterCap },
    anchor: board.anchor,
    bootstrap: board.bootstrap,
    models: board.rows.map((row) => ({
      model: row.model,
      rank: row.rank,
      rating: round(row.rating),
      rating_low: round(row.ratingLow),
      rating_high: round(row.ratingHigh),
      battles: row.battles,
      wins: row.wins,
      losses: row.losses,
      ties: row.ties,
    })),
    win_fractions: {
      models: board.winFractions.models,
      fractions: board.winFractions.fractions.map((row) => row.map((f) => (f === null ? null : Math.round(f * 1000) / 1000))),
      battles: board.winFractions.battles,
    },
    judge,
  };
}

/** The latest recorded evaluation run's scores, or null when none is recorded. */
async function latestJudge(db: D1Database): Promise<LeaderboardJudge | null> {
  const row = await drizzle(db).select().from(evalRuns).orderBy(desc(evalRuns.createdAt), desc(evalRuns.id)).limit(1).get();
  if (!row) return null;
  // Stored by routes/admin-evals.ts after the same schema accepted it.
  const results = EvalResultsSchema.parse(JSON.parse(row.results));
  return {
    run_id: row.id,
    recorded_at: Math.floor(row.createdAt / 1000),
    judge_model: results.judge_model,
    mode: results.mode,
    question_set: row.questionSet,
    question_count: row.questionCount,
    scores: Object.fromEntries(Object.entries(results.models).map(([model, r]) => [model, r.score])),
  };
}

/** Refits from every stored vote and stores the result as the current leaderboard. */
export async function refreshLeaderboard(env: Env, now: number = Date.now()): Promise<ArenaLeaderboard> {
  const [votes, judge] = await Promise.all([loadRatedVotes(env.DB), latestJudge(env.DB)]);
  const board = leaderboardOf(votes, getConfig(env), now, judge);
  const row = { id: LEADERBOARD_ROW, computedAt: now, body: JSON.stringify(board) };
  await drizzle(env.DB).insert(arenaLeaderboard).values(row).onConflictDoUpdate({ target: arenaLeaderboard.id, set: { computedAt: now, body: row.body } });
  return board;
}

/** The stored leaderboard if it is fresh enough, else a new fit. */
export async function currentLeaderboard(env: Env, now: number = Date.now()): Promise<ArenaLeaderboard> {
  const stored = await drizzle(env.DB).select().from(arenaLeaderboard).where(eq(arenaLeaderboard.id, LEADERBOARD_ROW)).get();
  if (stored && now - stored.computedAt < getConfig(env).arena.leaderboardMaxAgeMs) {
    // Written by refreshLeaderboard from the same type.
    return JSON.parse(stored.body) as ArenaLeaderboard;
  }
  return refreshLeaderboard(env, now);
}

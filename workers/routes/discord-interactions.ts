/**
 * `POST /discord/interactions`: Discord's HTTP interactions endpoint (the developer portal's
 * Interactions Endpoint URL). Every request must carry a valid Ed25519 signature of the
 * application's public key, fresh, or it is a 401 and nothing happens. PING is answered PONG;
 * a slash command is stored in its own Durable Object (which runs it, workers/discord/) and
 * acknowledged with a deferred response at once; a vote button is answered in place.
 * Off (404) unless DISCORD_PUBLIC_KEY is set; set but incomplete is a 503 naming what is missing.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { accessDeniedWords, decideAccess } from "../../discord/access.js";
import { decodeVoteId, voteRefusedWords } from "../../discord/arena-view.js";
import { RESET_WHERE_WORDS, UNKNOWN_COMMAND_WORDS } from "../../discord/command-words.js";
import { CONSENT_WHERE_WORDS } from "../../discord/consent.js";
import { errorToWords } from "../../discord/errors-to-words.js";
import { GatewayCallError } from "../../discord/gateway-error.js";
import type { AppEnv } from "../app-env.js";
import { botKeyCaller } from "../discord/bot-key-caller.js";
import { getDiscordConfig, type DiscordConfig } from "../discord/discord-config.js";
import { InProcessGateway } from "../discord/in-process-gateway.js";
import { accessContextOf, commandOf, EPHEMERAL, INTERACTION, InteractionSchema, isEphemeral, placeOf, RESPONSE, userIdOf, type Interaction } from "../discord/interaction.js";
import { revealedMessage } from "../discord/run-command.js";
import { importPublicKey, verifyDiscordSignature } from "../discord/signature.js";
import { GatewayError, invalidRequest, notFound } from "../errors.js";

/** Discord's interaction bodies are a few KB; anything far larger is not one. */
const MAX_INTERACTION_BYTES = 64 * 1024;

function badSignature(message = "Invalid request signature."): GatewayError {
  return new GatewayError({ status: 401, type: "authentication_error", message, code: "invalid_signature" });
}

const ephemeral = (content: string) => ({ type: RESPONSE.message, data: { content, flags: EPHEMERAL, allowed_mentions: { parse: [] } } });

function requireConfig(c: Context<AppEnv>): DiscordConfig {
  const state = getDiscordConfig(c.env);
  if (state.kind === "off") throw notFound("Discord interactions are not enabled on this deployment (DISCORD_PUBLIC_KEY is not set).", "discord_interactions_off");
  if (state.kind === "incomplete") {
    throw new GatewayError({
      status: 503,
      type: "server_error",
      message: `Discord interactions are not fully configured: set ${state.missing.join(" and ")}.`,
      code: "discord_not_configured",
    });
  }
  return state.config;
}

export const discordInteractionsRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const config = requireConfig(c);
  const raw = new Uint8Array(await c.req.arrayBuffer());
  if (raw.length > MAX_INTERACTION_BYTES) {
    throw new GatewayError({ status: 413, type: "invalid_request_error", message: `An interaction body is at most ${MAX_INTERACTION_BYTES} bytes.`, code: "payload_too_large" });
  }
  const check = await verifyDiscordSignature({
    publicKey: await importPublicKey(config.publicKeyHex),
    signatureHex: c.req.header("x-signature-ed25519") ?? null,
    timestamp: c.req.header("x-signature-timestamp") ?? null,
    body: raw,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  if (!check.ok) throw badSignature(check.reason === "stale" ? "The request signature's timestamp is too old (or ahead of our clock)." : undefined);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(raw));
  } catch {
    throw invalidRequest("The body is not JSON.", null, "invalid_json");
  }
  const parsed = InteractionSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest("The body is not a Discord interaction.", null, "invalid_interaction");
  const interaction = parsed.data;
  if (interaction.type === INTERACTION.ping) return c.json({ type: RESPONSE.pong });
  // Where the bot may answer and for whom: the bot process's DISCORD_ALLOWED_* settings, read the same way.
  const access = decideAccess(config.access, accessContextOf(interaction));
  if (!access.allowed) return c.json(ephemeral(accessDeniedWords(access.reason)));
  if (interaction.type === INTERACTION.command) return c.json(await acceptCommand(c, interaction));
  if (interaction.type === INTERACTION.component) return c.json(await answerVote(c, config, interaction));
  throw invalidRequest(`Interaction type ${interaction.type} is not handled here.`, "type", "unsupported_interaction");
});

/** Stores the command's job in its own Durable Object, then defers (the job edits the answer in). */
async function acceptCommand(c: Context<AppEnv>, i: Interaction): Promise<object> {
  const userId = userIdOf(i);
  const channelId = i.channel?.id ?? i.channel_id;
  if (!i.id || !i.token || !userId || !channelId) throw invalidRequest("The interaction lacks its id, token, user or channel.", null, "invalid_interaction");
  const command = commandOf(i);
  if (command === null) return ephemeral(UNKNOWN_COMMAND_WORDS);
  const place = placeOf(i);
  if (command.name === "reset" && place === "channel") {
    return ephemeral(RESET_WHERE_WORDS);
  }
  if (command.name === "share-data" && place === "channel") return ephemeral(CONSENT_WHERE_WORDS);
  const stub = c.env.DISCORD_JOBS.get(c.env.DISCORD_JOBS.idFromName(i.id));
  await stub.enqueue({ interactionId: i.id, token: i.token, receivedAtMs: Date.now(), userId, channelId, place, command });
  return { type: RESPONSE.deferredMessage, ...(isEphemeral(command) ? { data: { flags: EPHEMERAL } } : {}) };
}

/** A vote button: only the asker's click counts; the vote is one quick call, answered in place. */
async function answerVote(c: Context<AppEnv>, config: DiscordConfig, i: Interaction): Promise<object> {
  const button = decodeVoteId(i.data?.custom_id ?? "");
  const userId = userIdOf(i);
  if (!button || !userId) return ephemeral("That button is not mine to answer.");
  if (userId !== button.askerId) {
    return ephemeral(voteRefusedWords(button.askerId));
  }
  const caller = await botKeyCaller(c.env, config.keyId);
  if (!caller) return ephemeral("I'm not allowed to use the chat service right now. Please tell the server admins.");
  const gateway = new InProcessGateway({ env: c.env, ctx: c.executionCtx, caller });
  try {
    const battle = await gateway.voteBattle({ battleId: button.battleId, winner: button.winner, user: userId });
    return { type: RESPONSE.updateMessage, data: revealedMessage(battle) };
  } catch (error) {
    if (error instanceof GatewayCallError && error.code === "already_voted") {
      const battle = await gateway.getBattle(button.battleId, userId).catch(() => null);
      if (battle?.vote) return { type: RESPONSE.updateMessage, data: revealedMessage(battle) };
    }
    return ephemeral(errorToWords(error));
  }
}

/**
 * Reactions in the fake Discord: a user (or the bot, over REST) adds or removes a unicode emoji
 * on a message; the change is stored and dispatched as MESSAGE_REACTION_ADD / _REMOVE to the
 * sessions that asked for reaction events (GuildMessageReactions in guilds,
 * DirectMessageReactions in DMs), exactly once per real change, as Discord does.
 */
import { GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";
import type { FakeGateway } from "./gateway-ws.js";
import type { FakeDiscordState, FakeMessage, FakeReaction } from "./state.js";

/** Applies a reaction change and dispatches it; false if nothing changed (already there / not there). */
export function changeReaction(args: { state: FakeDiscordState; gateway: FakeGateway; message: FakeMessage; reaction: FakeReaction; kind: "add" | "remove" }): boolean {
  const { state, gateway, message, reaction, kind } = args;
  const changed = kind === "add" ? state.addReaction(message, reaction) : state.removeReaction(message, reaction);
  if (!changed) return false;
  const inGuild = state.channels.get(message.channelId)?.guildId != null;
  gateway.dispatch(
    kind === "add" ? GatewayDispatchEvents.MessageReactionAdd : GatewayDispatchEvents.MessageReactionRemove,
    state.gatewayReaction(message, reaction, kind),
    { intent: inGuild ? GatewayIntentBits.GuildMessageReactions : GatewayIntentBits.DirectMessageReactions },
  );
  return true;
}

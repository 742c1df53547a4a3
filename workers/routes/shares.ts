/**
 * Share links. The owner's side lives with the conversation routes (`/v1/conversations/{id}/share`,
 * authenticated like every /v1 route) and uses the views here; the public side (`GET /v1/shares/{share_id}`) is mounted
 * before authentication, since whoever holds the link reads the snapshot without a key or cookie.
 * The public view carries no key, end-user id, metadata or message ids: only the title, the model
 * and the messages' text.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Share, SharedConversation } from "../../wire/conversations.js";
import type { AppEnv } from "../app-env.js";
import { readShare, type ShareInfo } from "../db/share-store.js";
import { GatewayError, notFound } from "../errors.js";

/** Bytes of randomness in a share id: 144 bits (at least the 128 the link's secrecy needs), 24 base64url characters. */
const SHARE_ID_BYTES = 18;

/** `shr_` + base64url of crypto randomness: the whole secret of a share link. */
export function newShareId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SHARE_ID_BYTES));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `shr_${btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

const ShareIdParam = z.string().regex(/^shr_[A-Za-z0-9_-]{16,64}$/);

export function shareNotFound(): GatewayError {
  // The id is not echoed: a share id is a secret, and error bodies end up in logs.
  return notFound("This share link does not exist or was revoked.", "share_not_found");
}

/** A share as its owner sees it. */
export function shareView(origin: string, info: ShareInfo): Share {
  return {
    object: "conversation.share",
    id: info.share.id,
    url: `${origin}/share/${info.share.id}`,
    conversation_id: info.share.conversationId,
    message_count: info.messageCount,
    created_at: Math.floor(info.share.createdAt / 1000),
  };
}

/** The request's own origin: the page that serves `/share/{id}` is this same Worker. */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/** `GET /v1/shares/{share_id}`: public; index.ts mounts it before authentication. */
export const publicSharesRoutes = new Hono<AppEnv>().get("/:share_id", async (c) => {
  const shareId = c.req.param("share_id");
  if (!ShareIdParam.safeParse(shareId).success) throw shareNotFound();
  const found = await readShare(c.env.DB, shareId);
  if (!found) throw shareNotFound();
  const body: SharedConversation = {
    object: "shared_conversation",
    id: found.share.id,
    title: found.share.title,
    model: found.share.model,
    created_at: Math.floor(found.share.createdAt / 1000),
    messages: found.messages.map((m) => ({ role: m.role, content: m.content, status: m.status })),
  };
  return c.json(body);
});

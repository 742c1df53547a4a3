/**
 * Pure helpers for reading a response while it arrives: where the first generated token shows up
 * in an OpenAI chat stream, and whether a finished body is a complete, non-empty answer.
 */
import { z } from "zod";

// A content delta with at least one character: `"content":"x`. The role chunk's `"content":""` does not match.
const CONTENT_DELTA = /"content":"(?:[^"\\]|\\.)/;

/** True once the streamed text so far contains a chat chunk with non-empty content. */
export function hasFirstToken(textSoFar: string): boolean {
  return CONTENT_DELTA.test(textSoFar);
}

const ChatCompletionBody = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().min(1) }) })).min(1),
});

/** Why a finished 200 body is not a complete answer, or null when it is one. */
export function answerProblem(o: { stream: boolean; body: string }): string | null {
  if (o.stream) {
    if (!hasFirstToken(o.body)) return "stream had no content";
    if (!o.body.includes("data: [DONE]")) return "stream did not end with [DONE]";
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(o.body);
  } catch {
    return "body is not JSON";
  }
  return ChatCompletionBody.safeParse(json).success ? null : "no choices[0].message.content";
}

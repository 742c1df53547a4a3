import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("unknown routes", () => {
  it("answer 404 in the OpenAI error shape", async () => {
    const res = await SELF.fetch("https://gateway.test/v1/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: "Unknown route: GET /v1/nope", type: "invalid_request_error", param: null, code: "unknown_route" },
    });
  });
});

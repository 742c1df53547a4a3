import { describe, expect, it } from "vitest";
import { call } from "./helpers.js";

describe("unknown routes", () => {
  it("answer 404 in the OpenAI error shape", async () => {
    const res = await call("GET", "/v1/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: "Unknown route: GET /v1/nope", type: "invalid_request_error", param: null, code: "unknown_route" },
    });
  });

  it("outside /v1 need no key to say so", async () => {
    const res = await call("POST", "/nowhere", { key: null });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unknown_route");
  });

  it("carry a request id", async () => {
    const res = await call("GET", "/v1/models");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });
});

/**
 * A known path asked with a method it does not serve is a 405 `method_not_allowed` in OpenAI's
 * error shape, with `Allow` derived from the app's route table; an unknown path stays a 404.
 */
import { describe, expect, it } from "vitest";
import { AllowedMethods } from "../../workers/http/method-not-allowed.js";
import { call, expectOpenAIError } from "./helpers.js";

async function expect405(method: string, path: string, allow: string, key?: string | null): Promise<void> {
  const res = await call(method, path, key === undefined ? {} : { key });
  const allowHeader = res.headers.get("allow");
  const error = await expectOpenAIError(res, 405, "method_not_allowed");
  expect(error.type).toBe("invalid_request_error");
  expect(error.param).toBeNull();
  expect(allowHeader).toBe(allow);
  expect(error.message).toContain(method);
}

describe("405 method_not_allowed", () => {
  it.each([
    ["GET", "/v1/chat/completions", "POST"],
    ["DELETE", "/v1/usage", "GET, HEAD"],
    ["PUT", "/v1/conversations", "GET, HEAD, POST"],
    ["PATCH", "/v1/conversations/conv_abc", "DELETE, GET, HEAD, POST"],
    ["GET", "/v1/conversations/conv_abc/messages", "POST"],
    ["POST", "/v1/models", "GET, HEAD"],
    ["DELETE", "/v1/models/org/some-model", "GET, HEAD"],
    ["PUT", "/admin/keys/key_1", "DELETE, GET, HEAD, PATCH"],
    ["GET", "/admin/pool/workers/w-1/drain", "POST"],
    ["POST", "/admin/usage", "GET, HEAD"],
  ])("%s %s → 405, Allow: %s", async (method, path, allow) => {
    await expect405(method, path, allow);
  });

  it("answers routes outside the authenticated prefixes without a key", async () => {
    await expect405("GET", "/pool/heartbeat", "POST", null);
    await expect405("POST", "/health", "GET, HEAD", null);
    await expect405("DELETE", "/openapi.json", "GET, HEAD", null);
    await expect405("POST", "/metrics", "GET, HEAD", null);
  });

  it("authenticates first under /v1: no key is a 401, not a 405", async () => {
    await expectOpenAIError(await call("GET", "/v1/chat/completions", { key: null }), 401, "invalid_api_key");
  });

  it("keeps HEAD on a GET route working", async () => {
    const res = await call("HEAD", "/health", { key: null });
    expect(res.status).toBe(200);
    const models = await call("HEAD", "/v1/models");
    expect(models.status).toBe(200);
  });

  it("leaves unknown paths a 404 unknown_route", async () => {
    await expectOpenAIError(await call("GET", "/v1/nope"), 404, "unknown_route");
    await expectOpenAIError(await call("POST", "/nothing/here", { key: null }), 404, "unknown_route");
    await expectOpenAIError(await call("GET", "/v1/conversations/conv_abc/nope"), 404, "unknown_route");
  });
});

describe("AllowedMethods", () => {
  const table = new AllowedMethods([
    { method: "ALL", path: "/*" },
    { method: "ALL", path: "/v1/*" },
    { method: "GET", path: "/v1/things" },
    { method: "POST", path: "/v1/things" },
    { method: "GET", path: "/v1/things/:id" },
    { method: "DELETE", path: "/v1/things/:id" },
    { method: "GET", path: "/files/:name{.+}" },
    { method: "POST", path: "/jobs/*" },
  ]);

  it("derives methods from params, regex params and wildcards, ignoring middleware", () => {
    expect(table.for("/v1/things")).toEqual(["GET", "HEAD", "POST"]);
    expect(table.for("/v1/things/t1")).toEqual(["DELETE", "GET", "HEAD"]);
    expect(table.for("/files/a/b/c.txt")).toEqual(["GET", "HEAD"]);
    expect(table.for("/jobs/anything/here")).toEqual(["POST"]);
  });

  it("finds nothing for a path no route serves, even under a middleware prefix", () => {
    expect(table.for("/v1/unknown")).toEqual([]);
    expect(table.for("/v1/things/t1/extra")).toEqual([]);
  });
});

/**
 * GET /openapi.json: public, OpenAPI 3.1, and complete — every route the app mounts is described,
 * so a new route without docs fails here.
 */
import { describe, expect, it } from "vitest";
import app from "../../workers/app.js";
import { call } from "./helpers.js";

type Json = Record<string, unknown>;

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
}

async function fetchDocument(): Promise<OpenApiDocument> {
  const res = await call("GET", "/openapi.json", { key: null });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return (await res.json()) as OpenApiDocument;
}

/** `app.routes` as OpenAPI method + path: `:id{.+}` → `{id}`, a trailing `/*` → `/{path}`, without middleware and trailing-slash variants. */
function mountedRoutes(): { method: string; path: string }[] {
  const seen = new Set<string>();
  const routes: { method: string; path: string }[] = [];
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    // Test-only fault injection: the path exists only with FAULT_INJECTION on and on loopback, so
    // the public description of the API does not advertise it.
    if (route.path.startsWith("/admin/faults")) continue;
    const path = route.path
      .replace(/:(\w+)(\{[^}]*\})?\??/g, "{$1}")
      .replace(/(.)\/$/, "$1")
      .replace(/\/\*$/, "/{path}");
    const key = `${route.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    routes.push({ method: route.method.toLowerCase(), path });
  }
  return routes;
}

function collectRefs(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) collectRefs(item, into);
  else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string") into.push(inner);
      else collectRefs(inner, into);
    }
  }
  return into;
}

function resolve(doc: OpenApiDocument, ref: string): unknown {
  expect(ref.startsWith("#/")).toBe(true);
  return ref
    .slice(2)
    .split("/")
    .reduce<unknown>((node, segment) => (node && typeof node === "object" ? (node as Json)[segment] : undefined), doc);
}

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1, public, and served without a key", async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths["/health"]?.get?.security).toEqual([]);
    expect(doc.paths["/openapi.json"]?.get?.security).toEqual([]);
    expect(doc.paths["/pool/heartbeat"]?.post?.security).toEqual([{ poolToken: [] }]);
    expect(doc.paths["/v1/chat/completions"]?.post?.security).toEqual([{ bearer: [] }]);
  });

  it("describes every method and path the app mounts", async () => {
    const doc = await fetchDocument();
    const routes = mountedRoutes();
    expect(routes.length).toBeGreaterThan(20);
    const missing = routes.filter((r) => doc.paths[r.path]?.[r.method] === undefined).map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(missing).toEqual([]);
    // …and nothing the app does not serve.
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("takes the chat completions request from the schema the route validates with", async () => {
    const doc = await fetchDocument();
    const ref = collectRefs(doc.paths["/v1/chat/completions"]?.post?.requestBody)[0];
    expect(ref).toBeDefined();
    const schema = resolve(doc, ref ?? "") as { type: string; properties: Json; required: string[]; additionalProperties: boolean };
    expect(schema.type).toBe("object");
    for (const field of ["messages", "model", "truncation", "seed", "stream", "max_tokens"]) expect(schema.properties).toHaveProperty(field);
    expect(schema.required).toEqual(expect.arrayContaining(["messages", "model"]));
    // .strict(): unknown parameters are refused, and the description says so.
    expect(schema.additionalProperties).toBe(false);
    // io: "input" — the `developer` role, which the route maps to system, is accepted input.
    expect(JSON.stringify(schema.properties.messages)).toContain("developer");
  });

  it("describes query parameters from the routes' query schemas", async () => {
    const doc = await fetchDocument();
    const names = (op: Json | undefined) => ((op?.parameters ?? []) as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`);
    expect(names(doc.paths["/v1/conversations"]?.get)).toEqual(expect.arrayContaining(["query:limit", "query:after", "query:external_id", "query:user"]));
    expect(names(doc.paths["/v1/usage"]?.get)).toEqual(expect.arrayContaining(["query:start_date", "query:end_date", "query:user"]));
    expect(names(doc.paths["/v1/conversations/{id}"]?.delete)).toEqual(expect.arrayContaining(["path:id", "query:user"]));
  });

  it("has errors reference the OpenAI error envelope, and every $ref resolves", async () => {
    const doc = await fetchDocument();
    const errorResponse = doc.components.responses.Error;
    expect(collectRefs(errorResponse)).toEqual(["#/components/schemas/ErrorBody"]);
    const envelope = doc.components.schemas.ErrorBody as { properties: { error: { required: string[] } } };
    expect(envelope.properties.error.required.sort()).toEqual(["code", "message", "param", "type"]);
    const chat = doc.paths["/v1/chat/completions"]?.post?.responses as Record<string, Json>;
    for (const status of ["400", "401", "429", "503"]) expect(chat[status]?.$ref).toBe("#/components/responses/Error");
    for (const ref of collectRefs(doc)) expect(resolve(doc, ref), ref).toBeDefined();
    // Components are plain 2020-12 schemas: no per-schema dialect, no fragment `$id`.
    for (const schema of Object.values(doc.components.schemas)) {
      expect(schema).not.toHaveProperty("$id");
      expect(schema).not.toHaveProperty("$schema");
    }
  });

  it("gives every operation a unique operationId", async () => {
    const doc = await fetchDocument();
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

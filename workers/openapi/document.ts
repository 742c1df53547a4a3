/**
 * The OpenAPI 3.1 document served at GET /openapi.json, built from the operations table and the
 * zod schemas the routes validate with. Built once per isolate on first request: the schemas are
 * static, and converting them costs more than serving a cached object.
 */
import { OPERATIONS, type Access, type OperationSpec } from "./operations.js";
import { buildComponentSchemas, componentRef, queryParameters, type JsonSchema } from "./schemas.js";

const API_VERSION = "0.1.0";

/** Why each error status happens, for the per-route error responses. */
const ERROR_REASONS: Record<number, string> = {
  400: "Invalid request (unknown parameters are `unsupported_parameter`).",
  401: "Missing or invalid credentials.",
  403: "The credentials may not do this.",
  404: "Not found.",
  409: "The conversation is busy with another turn.",
  413: "Request body or message too large.",
  415: "The body is not `application/json`.",
  429: "Rate limit or quota exceeded; see `Retry-After`.",
  500: "Internal error.",
  502: "The model server rejected or broke the request.",
  503: "No worker or provider can take the request; see `Retry-After`.",
  504: "No first token in time.",
};

/** Errors every route of an access kind can answer, besides its own. */
const ACCESS_ERRORS: Record<Access, readonly number[]> = {
  public: [],
  key: [401, 429, 500],
  admin: [401, 403, 500],
  pool: [401, 500],
  metrics: [401, 500],
};

const ACCESS_SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  key: [{ bearer: [] }],
  admin: [{ bearer: [] }],
  pool: [{ poolToken: [] }],
  metrics: [{ bearer: [] }, { metricsToken: [] }],
};

const ACCESS_NOTE: Record<Access, string> = {
  public: "No authentication.",
  key: "Any API key.",
  admin: "An admin key.",
  pool: "The pool token (POOL_TOKEN); API keys are not accepted.",
  metrics: "An admin key or the metrics token (METRICS_TOKEN).",
};

const SSE_STREAM: JsonSchema = {
  type: "string",
  description: "Server-sent events: each `data:` line one ChatCompletionChunk (#/components/schemas/ChatCompletionChunk), then `data: [DONE]`.",
};

function successContent(body: OperationSpec["success"][number]["body"]): JsonSchema {
  switch (body) {
    case "turn":
      return { "application/json": { schema: componentRef("ChatCompletion") }, "text/event-stream": { schema: SSE_STREAM } };
    case "text":
      return { "text/plain": { schema: { type: "string", description: "Prometheus text exposition format 0.0.4." } } };
    case "html":
      return { "text/html": { schema: { type: "string" } } };
    case "ndjson":
      return { "application/x-ndjson": { schema: { type: "string", description: "One JSON object per line." } } };
    case "asset":
      return { "*/*": { schema: { type: "string", format: "binary" } } };
    case "document":
      return { "application/json": { schema: { type: "object", description: "An OpenAPI 3.1 document." } } };
    default:
      return { "application/json": { schema: componentRef(body) } };
  }
}

function operation(spec: OperationSpec): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const success of spec.success) responses[String(success.status)] = { description: success.description, content: successContent(success.body) };
  const errors = [...new Set([...(spec.errors ?? []), ...ACCESS_ERRORS[spec.access]])].sort((a, b) => a - b);
  // OpenAPI 3.1 lets a reference override the description: one error envelope, a reason per status.
  for (const status of errors) responses[String(status)] = { $ref: "#/components/responses/Error", description: ERROR_REASONS[status] ?? "Error." };

  const parameters = [
    ...(spec.params ?? []).map((p) => ({
      name: p.name,
      in: "path",
      required: true,
      description: p.description,
      schema: p.values ? { type: "string", enum: [...p.values] } : { type: "string" },
    })),
    ...(spec.query ? queryParameters(spec.query) : []),
  ];
  return {
    operationId: `${spec.method}${spec.path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? "").toUpperCase())}`,
    summary: spec.summary,
    description: ACCESS_NOTE[spec.access],
    tags: [spec.tag],
    security: ACCESS_SECURITY[spec.access],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body ? { requestBody: { required: true, content: { "application/json": { schema: componentRef(spec.body) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of OPERATIONS) (paths[spec.path] ??= {})[spec.method] = operation(spec);
  return {
    openapi: "3.1.0",
    info: {
      title: "Altiplano gateway",
      version: API_VERSION,
      description:
        "OpenAI-compatible chat completions, server-side conversations, usage, and the admin and pool APIs. " +
        "Every error has OpenAI's shape `{\"error\":{\"message\",\"type\",\"param\",\"code\"}}`; a wrong method is 405 `method_not_allowed` with `Allow`.",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key (`sk-alt-…`, or an admin key for /admin)." },
        poolToken: { type: "http", scheme: "bearer", description: "The pool token GPU agents present (POOL_TOKEN)." },
        metricsToken: { type: "http", scheme: "bearer", description: "The metrics token for scrapers (METRICS_TOKEN)." },
      },
      schemas: buildComponentSchemas(),
      responses: {
        Error: { description: "An error in OpenAI's envelope.", content: { "application/json": { schema: componentRef("ErrorBody") } } },
      },
    },
  };
}

let cached: JsonSchema | null = null;

/** The document, built on first use and kept for the isolate's life. */
export function openApiDocument(): JsonSchema {
  cached ??= buildOpenApiDocument();
  return cached;
}

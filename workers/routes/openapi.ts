/** GET /openapi.json: the API's OpenAPI 3.1 description, public (no key), built once per isolate. */
import { Hono } from "hono";
import type { AppEnv } from "../app-env.js";
import { openApiDocument } from "../openapi/document.js";

export const openApiRoutes = new Hono<AppEnv>().get("/", (c) => c.json(openApiDocument()));

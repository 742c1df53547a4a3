/** GET /v1/models in OpenAI's list shape, from the configured models. */
import { Hono } from "hono";
import type { ModelCard } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { getConfig } from "../config.js";
import { notFound } from "../errors.js";

/** Models are configuration, so their creation time is the config's, not a database row's. */
const MODELS_CREATED_AT = 1_690_000_000;

function card(id: string, contextLength: number): ModelCard {
  return { id, object: "model", created: MODELS_CREATED_AT, owned_by: "altiplano", context_length: contextLength };
}

export const modelsRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    const models = [...getConfig(c.env).models.values()];
    return c.json({ object: "list", data: models.map((m) => card(m.id, m.contextLength)) });
  })
  .get("/:id{.+}", (c) => {
    const model = getConfig(c.env).models.get(c.req.param("id"));
    if (!model) throw notFound(`The model '${c.req.param("id")}' does not exist.`, "model_not_found");
    return c.json(card(model.id, model.contextLength));
  });

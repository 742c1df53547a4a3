/** GET /v1/models in OpenAI's list shape, from the configured models. */
import { Hono } from "hono";
import type { ModelCard } from "../../wire/openai.js";
import type { AppEnv } from "../app-env.js";
import { getConfig } from "../config.js";
import { notFound } from "../errors.js";
import type { ModelRuntime } from "../models/runtime.js";

/** Models are configuration, so their creation time is the config's, not a database row's. */
const MODELS_CREATED_AT = 1_690_000_000;

/** owned_by says who serves the model: "gpu-pool", or "provider:<host>" for an external API. */
function card(model: ModelRuntime): ModelCard {
  return { id: model.id, object: "model", created: MODELS_CREATED_AT, owned_by: model.ownedBy, context_length: model.contextLength };
}

export const modelsRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    const models = [...getConfig(c.env).models.values()];
    return c.json({ object: "list", data: models.map(card) });
  })
  .get("/:id{.+}", (c) => {
    const model = getConfig(c.env).models.get(c.req.param("id"));
    if (!model) throw notFound(`The model '${c.req.param("id")}' does not exist.`, "model_not_found");
    return c.json(card(model));
  });

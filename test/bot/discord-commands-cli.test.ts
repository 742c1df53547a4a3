/**
 * `npm run discord:commands`' arguments and environment: what it refuses, before any request.
 * (Registration itself runs against the fake Discord in operable.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { runDiscordCommands } from "../../scripts/discord-commands.js";

const env = { DISCORD_TOKEN: "t", DISCORD_APPLICATION_ID: "123", DISCORD_REST_API: "http://127.0.0.1:9/api" };

describe("discord:commands refuses bad input with a readable message", () => {
  it.each([
    { name: "no token", argv: [], env: { DISCORD_APPLICATION_ID: "123" }, error: /DISCORD_TOKEN: is required/ },
    { name: "an application id that is not a number", argv: [], env: { ...env, DISCORD_APPLICATION_ID: "app" }, error: /DISCORD_APPLICATION_ID: must be a numeric Discord id/ },
    { name: "--guild without an id", argv: ["--guild"], env, error: /--guild takes a numeric guild id/ },
    { name: "--guild with a name", argv: ["--guild", "general"], env, error: /--guild takes a numeric guild id/ },
    { name: "an unknown flag", argv: ["--force"], env, error: /unknown argument '--force'/ },
    { name: "a gateway URL without a key", argv: [], env: { ...env, ALTIPLANO_URL: "http://127.0.0.1:9" }, error: /set both ALTIPLANO_URL and ALTIPLANO_API_KEY/ },
  ])("$name", async ({ argv, env: e, error }) => {
    await expect(runDiscordCommands(argv, e)).rejects.toThrow(error);
  });
});

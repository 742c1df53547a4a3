/**
 * The shared Discord definitions (discord/): the command JSON, the drift check between registered
 * and defined commands, and the commands' words.
 */
import { describe, expect, it } from "vitest";
import { commandDrift, driftWords, isInSync, type RegisteredCommand } from "../../discord/command-sync.js";
import { modelListWords, modelSwitchedWords, quotePromptWords, resetWords, unknownModelWords } from "../../discord/command-words.js";
import { buildCommands, COMMAND_NAMES, MAX_CHOICES } from "../../discord/commands.js";

describe("buildCommands", () => {
  it("defines every command once, as chat-input commands", () => {
    const commands = buildCommands(["vicuna-13b"]);
    expect(commands.map((c) => c.name).sort()).toEqual(Object.values(COMMAND_NAMES).sort());
    for (const c of commands) {
      expect(c.type).toBe(1);
      expect(c.description?.length).toBeGreaterThan(0);
      expect(c.description!.length).toBeLessThanOrEqual(100);
    }
  });

  it.each([
    { models: [], expected: undefined },
    { models: ["a"], expected: [{ name: "a", value: "a" }] },
    { models: Array.from({ length: 30 }, (_, i) => `m${i}`), expected: MAX_CHOICES },
    { models: ["x".repeat(120)], expected: [{ name: "x".repeat(100), value: "x".repeat(120) }] },
  ])("model choices for $models.length models", ({ models, expected }) => {
    const chat = buildCommands(models).find((c) => c.name === "chat")!;
    const model = chat.options?.find((o) => o.name === "model") as { choices?: unknown[] } | undefined;
    if (typeof expected === "number") expect(model?.choices).toHaveLength(expected);
    else expect(model?.choices).toEqual(expected);
  });
});

/** A command as Discord returns it: with ids, versions and defaults the definitions leave out. */
function asRegistered(models: string[]): RegisteredCommand[] {
  return buildCommands(models).map((c, i) => ({
    ...c,
    id: String(1000 + i),
    application_id: "42",
    version: "1",
    default_member_permissions: null,
    dm_permission: true,
    nsfw: false,
    // Discord leaves `required` out when it is false.
    options: c.options?.map((o) => {
      const { required, ...rest } = o as { required?: boolean };
      return required ? o : rest;
    }),
  })) as RegisteredCommand[];
}

describe("commandDrift", () => {
  const defined = buildCommands(["vicuna-13b", "vicuna-7b"]);
  const cases: Array<{ name: string; registered: RegisteredCommand[]; missing: string[]; changed: string[]; extra: string[] }> = [
    { name: "same commands as Discord returns them", registered: asRegistered(["vicuna-13b", "vicuna-7b"]), missing: [], changed: [], extra: [] },
    { name: "nothing registered", registered: [], missing: defined.map((c) => c.name), changed: [], extra: [] },
    { name: "a model added since registration", registered: asRegistered(["vicuna-13b"]), missing: [], changed: ["chat", "model"], extra: [] },
    {
      name: "a description reworded",
      registered: asRegistered(["vicuna-13b", "vicuna-7b"]).map((c) => (c.name === "usage" ? { ...c, description: "old words" } : c)),
      missing: [],
      changed: ["usage"],
      extra: [],
    },
    {
      name: "an old command left over, one not yet registered",
      registered: [...asRegistered(["vicuna-13b", "vicuna-7b"]).filter((c) => c.name !== "arena"), { name: "ask", type: 1, description: "old" }],
      missing: ["arena"],
      changed: [],
      extra: ["ask"],
    },
  ];
  it.each(cases)("$name", ({ registered, missing, changed, extra }) => {
    const drift = commandDrift({ defined, registered });
    expect(drift).toEqual({ missing, changed, extra });
    expect(isInSync(drift)).toBe(missing.length + changed.length + extra.length === 0);
  });

  it("says what to run when the commands differ", () => {
    expect(driftWords({ missing: ["arena"], changed: [], extra: ["ask"] }, "globally")).toBe(
      "slash commands registered globally differ from this version (missing: /arena; no longer served: /ask); run `npm run discord:commands` to register them",
    );
    expect(driftWords({ missing: [], changed: [], extra: [] }, "in guild 1")).toBe("slash commands registered in guild 1 match this version");
  });
});

describe("command words", () => {
  it.each([
    [quotePromptWords("7", "hi\nthere"), "<@7> asked:\n> hi\n> there"],
    [quotePromptWords("7", "x".repeat(1900)), `<@7> asked:\n> ${"x".repeat(1800)}…`],
    [resetWords(true), "Done: I've forgotten this conversation. Your next message starts a fresh one."],
    [resetWords(false), "There was nothing to forget here yet."],
    [modelListWords(["a", "b"], "b"), "Models available:\n• `a`\n• `b` (this conversation)\n-# Switch with /model name:<model>; in a channel, /chat has a model option."],
    [modelListWords([], null), "Models available:\n(none right now)\n-# Switch with /model name:<model>; in a channel, /chat has a model option."],
    [unknownModelWords("z", ["a", "b"]), "I don't know the model `z`. Available: `a`, `b`."],
    [unknownModelWords("z", []), "I don't know the model `z`. Available: none right now."],
    [modelSwitchedWords("a", true), "Switched to `a`. This starts a fresh conversation here."],
    [modelSwitchedWords("a", false), "Switched to `a`."],
  ])("%#: %s", (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

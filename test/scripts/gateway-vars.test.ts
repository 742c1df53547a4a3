import { describe, expect, it } from "vitest";
import { gatewayVarsFrom, parseDevVars, secretsNamedByModels } from "../../scripts/gateway-vars.js";

describe("parseDevVars", () => {
  it.each([
    { text: "A=1\nB=two", want: { A: "1", B: "two" } },
    { text: "# comment\n\n  C = spaced  ", want: { C: "spaced" } },
    { text: `D="quoted value"\nE='single'`, want: { D: "quoted value", E: "single" } },
    { text: `export F=exported`, want: { F: "exported" } },
    { text: `MODELS='[{"id":"x"}]'`, want: { MODELS: `[{"id":"x"}]` } },
    { text: `G="line\\nbreak"`, want: { G: "line\nbreak" } },
  ])("$text", ({ text, want }) => {
    expect(parseDevVars(text)).toEqual(want);
  });

  it("names the line it cannot read", () => {
    expect(() => parseDevVars("not a var")).toThrow(/not a var/);
  });
});

describe("gatewayVarsFrom", () => {
  const provider = JSON.stringify([{ id: "gpt-4o", provider: "openai-compatible", apiKeySecret: "OPENAI_API_KEY" }]);
  it.each<{ name: string; devVars: Record<string, string>; env: Record<string, string>; want: Record<string, string> }>([
    { name: "only known names leave the environment", devVars: {}, env: { PATH: "/bin", HOME: "/root", MAX_ATTEMPTS: "5", POOL_TOKEN: "t" }, want: { MAX_ATTEMPTS: "5", POOL_TOKEN: "t" } },
    { name: ".dev.vars passes whole", devVars: { ANYTHING: "x" }, env: {}, want: { ANYTHING: "x" } },
    { name: "the environment overrides .dev.vars", devVars: { MAX_ATTEMPTS: "2" }, env: { MAX_ATTEMPTS: "4" }, want: { MAX_ATTEMPTS: "4" } },
    { name: "a secret a MODELS entry names is taken from the environment", devVars: { MODELS: provider }, env: { OPENAI_API_KEY: "sk-1", OTHER_KEY: "no" }, want: { MODELS: provider, OPENAI_API_KEY: "sk-1" } },
    { name: "MODELS from the environment also names its secrets", devVars: {}, env: { MODELS: provider, OPENAI_API_KEY: "sk-2" }, want: { MODELS: provider, OPENAI_API_KEY: "sk-2" } },
    { name: "empty values are not set", devVars: {}, env: { MAX_ATTEMPTS: "" }, want: {} },
  ])("$name", ({ devVars, env, want }) => {
    expect(gatewayVarsFrom({ devVars, env, knownVars: ["MAX_ATTEMPTS", "MODELS"] })).toEqual(want);
  });

  it("secretsNamedByModels ignores what is not a model list", () => {
    expect(secretsNamedByModels("not json")).toEqual([]);
    expect(secretsNamedByModels('{"id":"x"}')).toEqual([]);
    expect(secretsNamedByModels(undefined)).toEqual([]);
  });
});

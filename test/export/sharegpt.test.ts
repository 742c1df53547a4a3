import { describe, expect, it } from "vitest";
import type { ExportPair } from "../../export/conversation.js";
import { segmentId, splitOf, toOpenAi, toRecord, toShareGpt } from "../../export/sharegpt.js";

const pairs: ExportPair[] = [
  { user: "Hi", assistant: "Hello!", feedback: { up: 1, down: 0 } },
  { user: "Bye", assistant: "Goodbye.", feedback: { up: 0, down: 0 } },
];

describe("records", () => {
  const cases = [
    {
      name: "sharegpt without system",
      record: toRecord("sharegpt", { id: "c1_0", model: "vicuna-13b-v1.5", system: null, pairs }),
      json: '{"id":"c1_0","model":"vicuna-13b-v1.5","conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello!"},{"from":"human","value":"Bye"},{"from":"gpt","value":"Goodbye."}]}',
    },
    {
      name: "sharegpt with system as a top-level field",
      record: toShareGpt({ id: "c1_1", model: "m", system: "Be brief.", pairs: pairs.slice(0, 1) }),
      json: '{"id":"c1_1","model":"m","conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello!"}],"system":"Be brief."}',
    },
    {
      name: "sharegpt with an empty system prompt writes none",
      record: toShareGpt({ id: "c", model: "m", system: "", pairs: pairs.slice(0, 1) }),
      json: '{"id":"c","model":"m","conversations":[{"from":"human","value":"Hi"},{"from":"gpt","value":"Hello!"}]}',
    },
    {
      name: "openai with system",
      record: toRecord("openai", { id: "c1_0", model: "m", system: "Be brief.", pairs: pairs.slice(1) }),
      json: '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Bye"},{"role":"assistant","content":"Goodbye."}]}',
    },
    {
      name: "openai without system",
      record: toOpenAi({ id: "c1_0", model: "m", system: null, pairs: pairs.slice(0, 1) }),
      json: '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}',
    },
  ];
  it.each(cases)("$name", ({ record, json }) => {
    expect(JSON.parse(JSON.stringify(record))).toEqual(JSON.parse(json));
  });

  it("segment ids count from 0", () => {
    expect([0, 1, 12].map((i) => segmentId("conv-abc", i))).toEqual(["conv-abc_0", "conv-abc_1", "conv-abc_12"]);
  });
});

describe("splitOf", () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `conv-${i}`);

  it.each([
    [0, 0],
    [1, 2000],
  ])("fraction %d puts %d in test", (fraction, tests) => {
    expect(ids.filter((id) => splitOf(id, fraction) === "test").length).toBe(tests);
  });

  it("is deterministic and near the fraction", () => {
    const first = ids.map((id) => splitOf(id, 0.1));
    expect(ids.map((id) => splitOf(id, 0.1))).toEqual(first);
    const tests = first.filter((s) => s === "test").length;
    expect(tests).toBeGreaterThan(140);
    expect(tests).toBeLessThan(260);
  });

  it("is monotone: a conversation in test at 5% is in test at 20%", () => {
    for (const id of ids) if (splitOf(id, 0.05) === "test") expect(splitOf(id, 0.2)).toBe("test");
  });

  it.each([-0.1, 1.5, Number.NaN])("rejects fraction %d", (fraction) => {
    expect(() => splitOf("x", fraction)).toThrow(RangeError);
  });
});

/** The usage API's date range rules, as a table (pure). */
import { describe, expect, it } from "vitest";
import { MAX_USAGE_RANGE_DAYS, resolveDateRange } from "../../workers/routes/usage-query.js";

const TODAY = "2026-04-20";

describe("resolveDateRange", () => {
  it.each([
    ["nothing: today", {}, { startDay: TODAY, endDay: TODAY }],
    ["only start: up to today", { startDate: "2026-04-01" }, { startDay: "2026-04-01", endDay: TODAY }],
    ["only a future start: that day", { startDate: "2026-05-01" }, { startDay: "2026-05-01", endDay: "2026-05-01" }],
    ["only end: that day", { endDate: "2026-01-31" }, { startDay: "2026-01-31", endDay: "2026-01-31" }],
    ["both", { startDate: "2026-02-01", endDate: "2026-02-28" }, { startDay: "2026-02-01", endDay: "2026-02-28" }],
    ["a leap day", { startDate: "2024-02-29", endDate: "2024-02-29" }, { startDay: "2024-02-29", endDay: "2024-02-29" }],
    ["exactly the widest range", { startDate: "2025-04-20", endDate: "2026-04-20" }, { startDay: "2025-04-20", endDay: "2026-04-20" }],
  ])("%s", (_name, input, expected) => {
    expect(resolveDateRange({ ...input, today: TODAY })).toEqual({ ok: true, ...expected });
  });

  it.each([
    ["start after end", { startDate: "2026-03-02", endDate: "2026-03-01" }, "start_date"],
    ["a range one day too wide", { startDate: "2025-04-19", endDate: "2026-04-20" }, "start_date"],
    ["an impossible start", { startDate: "2026-02-30" }, "start_date"],
    ["an impossible end", { endDate: "2025-13-01" }, "end_date"],
    ["a non-leap Feb 29", { endDate: "2025-02-29" }, "end_date"],
  ])("rejects %s naming %s", (_name, input, param) => {
    const range = resolveDateRange({ ...input, today: TODAY });
    expect(range).toMatchObject({ ok: false, param });
  });

  it("allows a year and a day at most", () => {
    expect(MAX_USAGE_RANGE_DAYS).toBe(366);
  });
});

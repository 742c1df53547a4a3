/** The usage API's query rules, as tables (pure): the date range, and the query parameters as parseWith answers them. */
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../workers/errors.js";
import { parseWith } from "../../workers/http/json-body.js";
import {
  ADMIN_USAGE_DEFAULT_LIMIT,
  ADMIN_USAGE_MAX_LIMIT,
  AdminUsageQuery,
  resolveDateRange,
  UsageQuery,
} from "../../workers/routes/usage-query.js";

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

  // The widest range is 366 days counted inclusively, whatever the calendar: a leap year fits
  // exactly, one more day does not, and a start_date alone is measured up to today.
  it.each<[string, { startDate: string; endDate?: string }, boolean]>([
    ["a whole leap year", { startDate: "2024-01-01", endDate: "2024-12-31" }, true],
    ["a leap year plus one day", { startDate: "2024-01-01", endDate: "2025-01-01" }, false],
    ["366 days across a leap day", { startDate: "2023-03-01", endDate: "2024-02-29" }, true],
    ["367 days across a leap day", { startDate: "2023-03-01", endDate: "2024-03-01" }, false],
    ["366 days without a leap day", { startDate: "2025-01-01", endDate: "2026-01-01" }, true],
    ["only start_date, 366 days before today inclusive", { startDate: "2025-04-20" }, true],
    ["only start_date, 367 days before today inclusive", { startDate: "2025-04-19" }, false],
  ])("the widest range: %s -> allowed %s", (_name, input, allowed) => {
    const range = resolveDateRange({ ...input, today: TODAY });
    if (allowed) {
      expect(range).toEqual({ ok: true, startDay: input.startDate, endDay: input.endDate ?? TODAY });
    } else {
      expect(range).toEqual({
        ok: false,
        param: "start_date",
        message: "The range may span at most 366 days; narrow start_date and end_date.",
      });
    }
  });

  it.each([
    ["a malformed start names the format", { startDate: "2026-4-1" }, { param: "start_date", message: "start_date must be a date as YYYY-MM-DD (UTC)." }],
    ["a malformed start is reported before a bad end", { startDate: "April 1", endDate: "nope" }, { param: "start_date", message: "start_date must be a date as YYYY-MM-DD (UTC)." }],
    ["a date with a time is not a day", { endDate: "2026-04-01T00:00:00Z" }, { param: "end_date", message: "end_date must be a date as YYYY-MM-DD (UTC)." }],
    ["start after end names both days", { startDate: "2026-03-02", endDate: "2026-03-01" }, { param: "start_date", message: "start_date (2026-03-02) is after end_date (2026-03-01)." }],
    ["a future range in the wrong order", { startDate: "2026-05-02", endDate: "2026-05-01" }, { param: "start_date", message: "start_date (2026-05-02) is after end_date (2026-05-01)." }],
  ])("the error a client reads: %s", (_name, input, expected) => {
    expect(resolveDateRange({ ...input, today: TODAY })).toEqual({ ok: false, ...expected });
  });
});

/** What parseWith would answer: the parsed query, or the param and code of the 400. */
function parseQuery(schema: typeof UsageQuery | typeof AdminUsageQuery, query: Record<string, string>) {
  try {
    return { ok: true as const, value: parseWith(schema, query) as Record<string, unknown> };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    return { ok: false as const, status: error.status, param: error.param, code: error.code, message: error.message };
  }
}

describe("UsageQuery (GET /v1/usage)", () => {
  it.each([
    ["no parameters", {}, {}],
    ["both dates", { start_date: "2026-04-01", end_date: "2026-04-20" }, { start_date: "2026-04-01", end_date: "2026-04-20" }],
    ["an end user", { user: "discord:7" }, { user: "discord:7" }],
    ["the longest end user", { user: "u".repeat(256) }, { user: "u".repeat(256) }],
  ])("accepts %s", (_name, query, expected) => {
    expect(parseQuery(UsageQuery, query)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["an impossible date", { start_date: "2026-02-30" }, "start_date", "invalid_value"],
    ["a date in another format", { end_date: "20/04/2026" }, "end_date", "invalid_value"],
    ["an empty user", { user: "" }, "user", "invalid_value"],
    ["a user longer than 256 characters", { user: "u".repeat(257) }, "user", "invalid_value"],
    ["an admin-only parameter", { key_id: "key_1" }, "key_id", "unsupported_parameter"],
    ["an unknown parameter", { from: "2026-04-01" }, "from", "unsupported_parameter"],
  ])("refuses %s: 400 naming %s (%s)", (_name, query, param, code) => {
    expect(parseQuery(UsageQuery, query)).toMatchObject({ ok: false, status: 400, param, code });
  });

  it("says why a date is refused and which parameter is unsupported", () => {
    expect(parseQuery(UsageQuery, { start_date: "2026-13-01" })).toMatchObject({
      message: "Invalid value for 'start_date': must be a date as YYYY-MM-DD (UTC)",
    });
    expect(parseQuery(UsageQuery, { key_id: "k" })).toMatchObject({ message: "Unsupported parameter: key_id. Remove it and try again." });
  });
});

describe("AdminUsageQuery (GET /admin/usage)", () => {
  it.each([
    ["no parameters: the default page size", {}, { limit: ADMIN_USAGE_DEFAULT_LIMIT }],
    ["a limit from the query string is a number", { limit: "50" }, { limit: 50 }],
    ["the smallest limit", { limit: "1" }, { limit: 1 }],
    ["the largest limit", { limit: String(ADMIN_USAGE_MAX_LIMIT) }, { limit: ADMIN_USAGE_MAX_LIMIT }],
    ["one key and a range", { key_id: "key_1", start_date: "2026-04-01", end_date: "2026-04-02" }, { key_id: "key_1", start_date: "2026-04-01", end_date: "2026-04-02", limit: ADMIN_USAGE_DEFAULT_LIMIT }],
  ])("accepts %s", (_name, query, expected) => {
    expect(parseQuery(AdminUsageQuery, query)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["a zero limit", { limit: "0" }, "limit", "invalid_value"],
    ["a limit past the maximum", { limit: String(ADMIN_USAGE_MAX_LIMIT + 1) }, "limit", "invalid_value"],
    ["a fractional limit", { limit: "2.5" }, "limit", "invalid_value"],
    ["a limit that is not a number", { limit: "all" }, "limit", "invalid_value"],
    ["an empty key_id", { key_id: "" }, "key_id", "invalid_value"],
    ["an impossible date", { end_date: "2025-02-29" }, "end_date", "invalid_value"],
    ["a caller-only parameter", { user: "7" }, "user", "unsupported_parameter"],
  ])("refuses %s: 400 naming %s (%s)", (_name, query, param, code) => {
    expect(parseQuery(AdminUsageQuery, query)).toMatchObject({ ok: false, status: 400, param, code });
  });
});

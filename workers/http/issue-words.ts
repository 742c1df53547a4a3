/**
 * What a request field should have been, in words, for every zod issue kind. zod's own messages
 * ("Invalid input", "Invalid option", "Too big: expected number to be <=2") name zod's internals,
 * not what the client should send; this error map says what was expected instead.
 *
 * It is passed per parse, so a schema's own message (e.g. the `stop` union's) still wins: zod
 * asks the schema's error first and this map only when the schema has none.
 */
import type { z } from "zod";

type RawIssue = z.core.$ZodRawIssue;

/** "a string", "an integer": the noun for one of zod's expected types. */
function typeNoun(expected: string): string {
  switch (expected) {
    case "int":
      return "an integer";
    case "array":
    case "tuple":
      return "an array";
    case "object":
    case "record":
    case "map":
      return "an object";
    case "null":
    case "undefined":
      return expected;
    default:
      return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/**
 * What the client sent, for a ", got …" clause. Numbers and booleans are echoed; strings and
 * objects only by kind, so an error never reflects the client's text back.
 */
function gotWords(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (typeof input === "number" || typeof input === "boolean") return String(input);
  if (typeof input === "string") return input === "" ? "an empty string" : "a string";
  if (typeof input === "object") return "an object";
  return typeNoun(typeof input);
}

const got = (input: unknown): string => (input === undefined ? "" : `, got ${gotWords(input)}`);

function bound(issue: { origin: string; inclusive?: boolean; exact?: boolean }, value: number | bigint, side: "max" | "min"): string {
  const n = Number(value);
  if (issue.origin === "string") {
    if (side === "min" && n === 1 && !issue.exact) return "a non-empty string";
    return `a string of ${issue.exact ? "exactly" : side === "max" ? "at most" : "at least"} ${n} character${n === 1 ? "" : "s"}`;
  }
  if (issue.origin === "array" || issue.origin === "set") {
    if (side === "min" && n === 1 && !issue.exact) return "a non-empty array";
    return `an array of ${issue.exact ? "exactly" : side === "max" ? "at most" : "at least"} ${n} item${n === 1 ? "" : "s"}`;
  }
  const noun = issue.origin === "int" ? "an integer" : "a number";
  if (issue.inclusive === false) return `${noun} ${side === "max" ? "less than" : "greater than"} ${n}`;
  return `${noun} ${side === "max" ? "at most" : "at least"} ${n}`;
}

/** Turns a branch's message ("expected a string, got 5") into what it expected ("a string"). */
function expectation(message: string): string {
  return message.replace(/^expected /, "").replace(/, got .*$/, "");
}

/**
 * What one union branch expected. A branch whose issue lies deeper (a path inside the value)
 * accepted the value's kind and failed on one field: "an array where '0.type' is "text"".
 */
function branchExpectation(first: z.core.$ZodIssue | undefined, input: unknown): string {
  if (!first) return "";
  if (first.path.length === 0) return expectation(first.message);
  // Only a container has fields, so the value is an array or an object.
  return `${Array.isArray(input) ? "an array" : "an object"} where '${first.path.map(String).join(".")}' is ${expectation(first.message)}`;
}

/** zod error map: one sentence fragment, "expected …[, got …]", per issue. */
export function expectedWords(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${typeNoun(issue.expected)}${got(issue.input)}`;
    case "invalid_value": {
      const values = issue.values.map((v) => JSON.stringify(v) ?? String(v));
      return `expected ${values.length === 1 ? values[0] : `one of ${values.join(", ")}`}${got(issue.input)}`;
    }
    case "too_big":
      return `expected ${bound(issue, issue.maximum, "max")}${typeof issue.input === "number" ? got(issue.input) : ""}`;
    case "too_small":
      return `expected ${bound(issue, issue.minimum, "min")}${typeof issue.input === "number" ? got(issue.input) : ""}`;
    case "not_multiple_of":
      return `expected a multiple of ${issue.divisor}${got(issue.input)}`;
    case "invalid_format":
      return issue.format === "regex" && issue.pattern ? `expected a string matching ${issue.pattern}` : `expected a valid ${issue.format}`;
    case "invalid_key":
      return `invalid key (${issue.issues[0]?.message ?? "not allowed"})`;
    case "invalid_element":
      return `invalid element (${issue.issues[0]?.message ?? "not allowed"})`;
    case "invalid_union": {
      if (issue.inclusive === false) return "matches more than one of the accepted forms; send exactly one";
      // Each branch's first issue is already in these words: "expected a string or an array".
      const options = [...new Set(issue.errors.map((branch) => branchExpectation(branch[0], issue.input)).filter((o) => o !== ""))];
      return options.length > 0 ? `expected ${options.join(" or ")}${got(issue.input)}` : undefined;
    }
    case "unrecognized_keys":
      return `unsupported parameter${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
    default:
      return undefined;
  }
}

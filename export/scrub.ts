/**
 * Personal data scrubbing for training text: e-mail addresses, phone numbers, secrets, IP
 * addresses and Discord mentions become placeholder tokens, and each replacement is counted.
 * Code is scrubbed like prose (a key in a code block is still a key). Pure: no I/O.
 *
 * Placeholders (fixed, upper-case, in square brackets as in cleaned ShareGPT dumps):
 *   [EMAIL]  an e-mail address                       ana.perez@example.com
 *   [PHONE]  a phone number, 8 to 15 digits          +44 20 7946 0958, (555) 123-4567, 06 12 34 56 78
 *   [SECRET] an API key or credential; a key name    sk-proj-…, "Bearer [SECRET]", api_key=[SECRET],
 *            or "Bearer" before it is kept           ghp_…, AKIA…, a PEM private key block
 *   [IP]     a public IPv4 or IPv6 address           8.8.4.4, 2001:db8::8a2e:370:7334
 *   [USER]   a Discord user or role mention          <@123…>, <@!123…>, <@&123…>
 *
 * The rules lean towards false negatives on things that look like data: plain digit runs
 * (ids, timestamps), years, prices, ISO dates, versions (1.2.3, v1.2.3.4), git hashes, loopback
 * and private addresses (127.0.0.1, 10.x, 192.168.x, ::1) and netmasks stay as they are, since
 * they are not personal and code examples are full of them.
 */
import { isIPv4, isIPv6 } from "node:net";

export const SCRUB_KINDS = ["email", "phone", "secret", "ip", "user"] as const;
export type ScrubKind = (typeof SCRUB_KINDS)[number];
export type ScrubCounts = Record<ScrubKind, number>;

export const PLACEHOLDERS: Readonly<Record<ScrubKind, string>> = {
  email: "[EMAIL]",
  phone: "[PHONE]",
  secret: "[SECRET]",
  ip: "[IP]",
  user: "[USER]",
};

export interface ScrubResult {
  text: string;
  counts: ScrubCounts;
}

export function emptyScrubCounts(): ScrubCounts {
  return { email: 0, phone: 0, secret: 0, ip: 0, user: 0 };
}

/** Adds `more` into `into` (mutates and returns it). */
export function addScrubCounts(into: ScrubCounts, more: Readonly<ScrubCounts>): ScrubCounts {
  for (const kind of SCRUB_KINDS) into[kind] += more[kind];
  return into;
}

/** One rule: a pattern, and what a match becomes (null = not data after all: left as it is). */
interface Rule {
  kind: ScrubKind;
  pattern: RegExp;
  replace(match: string, groups: string[]): string | null;
}

const whole = (kind: ScrubKind) => (): string => PLACEHOLDERS[kind];

// Secrets first: their characters would otherwise look like phone digits or e-mail parts.
const SECRET_RULES: Rule[] = [
  {
    // A PEM private key, header to footer.
    kind: "secret",
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    replace: whole("secret"),
  },
  {
    // OpenAI-style keys (sk-…, sk-proj-…) and this gateway's own (sk-alt-…, sk-admin-…).
    kind: "secret",
    pattern: /(?<![\w-])sk-[A-Za-z0-9][A-Za-z0-9_-]{15,}/g,
    replace: whole("secret"),
  },
  {
    // GitHub, Slack, AWS, Google API keys: fixed prefixes, so no false positives to speak of.
    kind: "secret",
    pattern: /(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})(?![\w-])/g,
    replace: whole("secret"),
  },
  {
    // "Bearer <token>": the scheme stays, the token goes. A token has a digit: "the bearer
    // of bad news" is not a credential.
    kind: "secret",
    pattern: /\b(Bearer|bearer|BEARER)(\s+)((?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{8,}=*)/g,
    replace: (_m, [scheme = "", space = ""]) => `${scheme}${space}${PLACEHOLDERS.secret}`,
  },
  {
    // key=value and "key": "value" for credential names; the name and separator stay. Token-like
    // names need a long hex/base64 value (token=5 or max_tokens=512 are settings); a password
    // needs 6 characters.
    kind: "secret",
    pattern: /(?<![\w-])((?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|secret|client[_-]?secret|password|passwd|pwd)["']?\s*[=:]\s*["']?)([^\s"'&,;<>)\]}]+)/gi,
    replace: (_m, [prefix = "", value = ""]) => {
      const isPassword = /^(?:password|passwd|pwd)/i.test(prefix);
      const secretLike = isPassword ? value.length >= 6 : /^[A-Za-z0-9+/_.-]{16,}=*$/.test(value) && /\d/.test(value);
      return secretLike ? `${prefix}${PLACEHOLDERS.secret}` : null;
    },
  },
];

const EMAIL_RULE: Rule = {
  // git@github.com:org/repo is an SSH remote, not a person.
  kind: "email",
  pattern: /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w-])/g,
  replace: (match) => (match.toLowerCase().startsWith("git@") ? null : PLACEHOLDERS.email),
};

const DISCORD_RULE: Rule = {
  kind: "user",
  pattern: /<@[!&]?\d+>/g,
  replace: whole("user"),
};

/**
 * Public addresses only: loopback, unspecified, private (RFC 1918), link-local, netmasks and
 * broadcast stay, as they are not anyone's and are everywhere in configuration examples.
 */
export function isScrubbedIpv4(address: string): boolean {
  if (!isIPv4(address)) return false;
  const [a = 0, b = 0] = address.split(".").map(Number);
  if (a === 0 || a === 10 || a === 127 || a === 255) return false;
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 169 && b === 254) return false;
  return true;
}

/**
 * A full or compressed IPv6 address, except :: and ::1. A compressed form needs three groups or
 * a four-digit one, so Python slices (a[1::2]) and C++ scopes are left alone.
 */
export function isScrubbedIpv6(address: string): boolean {
  if (!isIPv6(address)) return false;
  const groups = address.split(/:+/).filter((g) => g !== "" && !g.includes("."));
  if (groups.length === 0 || (groups.length === 1 && /^0*1$/.test(groups[0]!))) return false;
  return groups.length >= 3 || groups.some((g) => g.length === 4);
}

const IP_RULES: Rule[] = [
  {
    kind: "ip",
    pattern: /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\d)/g,
    replace: (match) => (isScrubbedIpv6(match) ? PLACEHOLDERS.ip : null),
  },
  {
    // Exactly four parts, not part of a longer dotted run (1.2.3.4.5 is a version) nor after "v".
    kind: "ip",
    pattern: /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)/g,
    replace: (match) => (isScrubbedIpv4(match) ? PLACEHOLDERS.ip : null),
  },
];

const digitCount = (text: string): number => text.replace(/\D/g, "").length;
const phone = (match: string): string | null => {
  const digits = digitCount(match);
  return digits >= 8 && digits <= 15 ? PLACEHOLDERS.phone : null;
};

// Phones are separated forms only: a bare digit run is as likely an id, amount or timestamp.
// Boundaries keep them from starting or ending inside a longer number, word, date or decimal.
const PHONE_START = String.raw`(?<![\w+.,/-])`;
const PHONE_END = String.raw`(?![\w]|[.,/-]\d)`;
const PHONE_RULES: Rule[] = [
  {
    // International: +CC then groups of digits, optionally one in parentheses.
    kind: "phone",
    pattern: new RegExp(String.raw`(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,5}\))?(?:[ .-]?\d{1,5}){1,6}${PHONE_END}`, "g"),
    replace: phone,
  },
  {
    // North American: (555) 123-4567, 555-123-4567, 555.123.4567, 1-800-555-0199.
    kind: "phone",
    pattern: new RegExp(String.raw`${PHONE_START}(?:1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}${PHONE_END}`, "g"),
    replace: phone,
  },
  {
    // National forms with a trunk 0: 06 12 34 56 78, 030 1234567, (020) 7946 0958, 0151-12345678.
    kind: "phone",
    pattern: new RegExp(String.raw`${PHONE_START}(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .-]\d{2,8}){1,4}${PHONE_END}`, "g"),
    replace: phone,
  },
];

const RULES: readonly Rule[] = [...SECRET_RULES, EMAIL_RULE, DISCORD_RULE, ...IP_RULES, ...PHONE_RULES];

/** Applies one rule, counting the replacements it made. */
function applyRule(text: string, rule: Rule, counts: ScrubCounts): string {
  return text.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
    // replace() passes the capture groups first, then the match offset (a number), input, …
    const offset = rest.findIndex((g) => typeof g === "number");
    const groups = rest.slice(0, offset).map((g) => (typeof g === "string" ? g : ""));
    const replacement = rule.replace(match, groups);
    if (replacement === null) return match;
    counts[rule.kind]++;
    return replacement;
  });
}

/** The text with personal data replaced by placeholders, and how many of each kind. */
export function scrubText(text: string): ScrubResult {
  const counts = emptyScrubCounts();
  let out = text;
  for (const rule of RULES) out = applyRule(out, rule, counts);
  return { text: out, counts };
}

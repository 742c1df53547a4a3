import { describe, expect, it } from "vitest";
import { addScrubCounts, emptyScrubCounts, isScrubbedIpv4, isScrubbedIpv6, scrubText, type ScrubKind } from "../../export/scrub.js";

describe("scrubText: what is replaced", () => {
  const cases: Array<[ScrubKind, string, string]> = [
    ["email", "write to ana.perez+news@example.co.uk today", "write to [EMAIL] today"],
    ["email", "<bob_99@mail.example.org>", "<[EMAIL]>"],
    ["phone", "call +44 20 7946 0958", "call [PHONE]"],
    ["phone", "+1 (555) 123-4567", "[PHONE]"],
    ["phone", "+33 6 12 34 56 78.", "[PHONE]."],
    ["phone", "+49-151-12345678", "[PHONE]"],
    ["phone", "+4915112345678", "[PHONE]"],
    ["phone", "(555) 123-4567", "[PHONE]"],
    ["phone", "555-123-4567", "[PHONE]"],
    ["phone", "555.123.4567", "[PHONE]"],
    ["phone", "1-800-555-0199", "[PHONE]"],
    ["phone", "06 12 34 56 78", "[PHONE]"],
    ["phone", "030 1234567", "[PHONE]"],
    ["phone", "(020) 7946 0958", "[PHONE]"],
    ["phone", "0151-12345678", "[PHONE]"],
    ["secret", "key sk-proj-abcDEF1234567890abcdXYZ", "key [SECRET]"],
    ["secret", "sk-alt-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "[SECRET]"],
    ["secret", "OPENAI_API_KEY=sk-abcdefghijklmnop1234", "OPENAI_API_KEY=[SECRET]"],
    ["secret", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123", "Authorization: Bearer [SECRET]"],
    ["secret", "api_key=0123456789abcdef0123456789abcdef", "api_key=[SECRET]"],
    ["secret", "https://x.example/v1?token=Zm9vYmFyYmF6cXV4MTIzNDU2&x=1", "https://x.example/v1?token=[SECRET]&x=1"],
    ["secret", '{"password": "hunter22"}', '{"password": "[SECRET]"}'],
    ["secret", "API_KEY = 'AbCdEf0123456789GhIj'", "API_KEY = '[SECRET]'"],
    ["secret", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[SECRET]"],
    ["secret", "AKIAIOSFODNN7EXAMPLE", "[SECRET]"],
    ["secret", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "[SECRET]"],
    ["secret", "```py\nclient = OpenAI(api_key='sk-abcdefghijklmnop1234')\n```", "```py\nclient = OpenAI(api_key='[SECRET]')\n```"],
    ["ip", "server 8.8.4.4.", "server [IP]."],
    ["ip", "ssh root@203.0.113.7 -p 22", "ssh root@[IP] -p 22"],
    ["ip", "http://198.51.100.23:8080/", "http://[IP]:8080/"],
    ["ip", "2001:db8:85a3::8a2e:370:7334", "[IP]"],
    ["ip", "[2001:0db8:0000:0000:0000:ff00:0042:8329]:443", "[[IP]]:443"],
    ["ip", "fe80::1ff:fe23:4567:890a", "[IP]"],
    ["user", "hi <@123456789012345678>!", "hi [USER]!"],
    ["user", "<@!123456789012345678>", "[USER]"],
    ["user", "ping <@&987654321098765432>", "ping [USER]"],
  ];
  it.each(cases)("%s: %j", (kind, text, expected) => {
    const result = scrubText(text);
    expect(result.text).toBe(expected);
    expect(result.counts[kind]).toBeGreaterThan(0);
  });
});

describe("scrubText: false positives stay", () => {
  const unchanged = [
    "In 2024 it cost $1,234,567.89 (or 1 234 567 €).",
    "pi is 3.14159 and e is 2.71828",
    "on 2024-01-15, at 2024-01-15T10:30:00Z",
    "version 1.2.3, v1.2.3.4, 1.2.3.4.5 and 10.0.19041.1",
    "pip install foo==1.2.3 and npm i @types/node@20.19.43",
    "id 1700000000123, ticket 12345678, port 65535",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "git@github.com:org/repo.git",
    "user@localhost and @decorator and foo@2.0.0",
    "sk-learn and scikit-learn and task-1234567890abcdef",
    "the bearer of bad news; Bearer tokens are documented",
    "token=5, max_tokens=512, tokens: 4096, password: abc",
    "localhost is 127.0.0.1, LAN 192.168.1.1, 10.0.0.2, 172.16.0.1, mask 255.255.255.0, any 0.0.0.0",
    "IPv6 loopback ::1 and any ::",
    "a[1::2] and std::vector<int> and Foo::Bar",
    "at 12:30:45, MAC 00:1A:2B:3C:4D:5E",
    "matrix 1 2 3 4 5 6 7 8",
    "x = 100 * 60 * 60 - 3600",
    "call me maybe, channel <#123456789>",
    "[EMAIL] [PHONE] [SECRET] [IP] [USER]",
  ];
  it.each(unchanged)("%j", (text) => {
    const result = scrubText(text);
    expect(result.text).toBe(text);
    expect(result.counts).toEqual(emptyScrubCounts());
  });
});

describe("scrubText: counts", () => {
  it("counts each replacement by kind", () => {
    const text = "a@b.io c@d.io +44 20 7946 0958 sk-abcdefghijklmnop1234 8.8.8.8 <@1> <@2>";
    expect(scrubText(text)).toEqual({
      text: "[EMAIL] [EMAIL] [PHONE] [SECRET] [IP] [USER] [USER]",
      counts: { email: 2, phone: 1, secret: 1, ip: 1, user: 2 },
    });
  });

  it("a secret is counted once, not again as a phone", () => {
    expect(scrubText("api_key=12345678901234567890").counts).toEqual({ ...emptyScrubCounts(), secret: 1 });
  });

  it("addScrubCounts sums", () => {
    const total = addScrubCounts(emptyScrubCounts(), { email: 1, phone: 2, secret: 3, ip: 4, user: 5 });
    expect(addScrubCounts(total, { email: 1, phone: 0, secret: 0, ip: 0, user: 1 })).toEqual({ email: 2, phone: 2, secret: 3, ip: 4, user: 6 });
  });
});

describe("address rules", () => {
  const v4: Array<[string, boolean]> = [
    ["8.8.8.8", true],
    ["203.0.113.7", true],
    ["127.0.0.1", false],
    ["10.1.2.3", false],
    ["172.20.0.1", false],
    ["172.32.0.1", true],
    ["192.168.0.1", false],
    ["169.254.1.1", false],
    ["255.255.255.0", false],
    ["256.1.1.1", false],
  ];
  it.each(v4)("ipv4 %s → %s", (address, scrubbed) => expect(isScrubbedIpv4(address)).toBe(scrubbed));

  const v6: Array<[string, boolean]> = [
    ["2001:db8::1", true],
    ["fe80::1", true],
    ["::1", false],
    ["::", false],
    ["1::2", false],
    ["12:30:45", false],
  ];
  it.each(v6)("ipv6 %s → %s", (address, scrubbed) => expect(isScrubbedIpv6(address)).toBe(scrubbed));
});

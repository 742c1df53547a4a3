import { describe, expect, it } from "vitest";
import { clearCookie, readCookie, setCookie, withoutCookie } from "../../workers/web/cookies.js";
import { visitorIdOf, visitorPayload } from "../../workers/web/cookie-auth.js";
import { isSameOriginWrite } from "../../workers/web/same-origin.js";
import { signValue, verifyValue } from "../../workers/web/signed-token.js";

describe("reading cookies", () => {
  it.each([
    ["a lone cookie", "a=1", "a", "1"],
    ["among others, with spaces", "x=9; a=1 ; b=2", "a", "1"],
    ["the first of two", "a=1; a=2", "a", "1"],
    ["a name that only ends the same", "xa=1", "a", null],
    ["an empty value", "a=", "a", null],
    ["no header", undefined, "a", null],
    ["a value holding '='", "a=b=c", "a", "b=c"],
  ])("%s", (_name, header, name, expected) => {
    expect(readCookie(header, name)).toBe(expected);
  });
});

describe("dropping one cookie from a header", () => {
  it.each([
    ["the named one goes, the others stay", "a=1; altiplano_session=x; b=2", "a=1; b=2"],
    ["a name that only ends the same stays", "xaltiplano_session=1", "xaltiplano_session=1"],
    ["a header of only that cookie is empty", "altiplano_session=x", ""],
  ])("%s", (_name, header, expected) => {
    expect(readCookie(withoutCookie(header, "altiplano_session"), "altiplano_session")).toBeNull();
    expect((withoutCookie(header, "altiplano_session") ?? "").split(";").map((p) => p.trim()).filter(Boolean).join("; ")).toBe(expected);
  });
});

describe("writing cookies", () => {
  it("is HttpOnly, SameSite=Strict, for the whole site, Secure only over https", () => {
    expect(setCookie("s", "v", { maxAgeSeconds: 60, secure: false })).toBe("s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict");
    expect(setCookie("s", "v", { maxAgeSeconds: 60, secure: true })).toBe("s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    expect(clearCookie("s", false)).toBe("s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  });
});

describe("signed values", () => {
  it("verify only with the same secret and purpose, unaltered", async () => {
    const value = await signValue("secret-1", "session", "abc");
    expect(await verifyValue("secret-1", "session", value)).toBe("abc");
    expect(await verifyValue("secret-2", "session", value)).toBeNull();
    expect(await verifyValue("secret-1", "visitor", value)).toBeNull();
    const [payload, signature] = value.split(".") as [string, string];
    expect(await verifyValue("secret-1", "session", `abd.${signature}`)).toBeNull();
    expect(await verifyValue("secret-1", "session", `${payload}.${signature.slice(0, -2)}AA`)).toBeNull();
    for (const junk of ["", ".", "abc", "abc.", ".sig", "abc.!!!", "a.b.c"]) expect(await verifyValue("secret-1", "session", junk)).toBeNull();
  });

  it("keep a payload that itself has dots", async () => {
    expect(await verifyValue("k", "visitor", await signValue("k", "visitor", "id.123"))).toBe("id.123");
  });
});

describe("visitor cookie payloads", () => {
  const id = "AbCdEfGhIjKlMnOpQr";
  it.each([
    ["unexpired", visitorPayload(id, 2_000_000_000_000), 1_000_000_000_000, id],
    ["expired", visitorPayload(id, 1_000_000_000_000), 1_000_000_000_001, null],
    ["a short id", "abc.9999999999", 0, null],
    ["no expiry", `${id}.`, 0, null],
    ["junk", `${id}.12x`, 0, null],
  ])("%s", (_name, payload, now, expected) => {
    expect(visitorIdOf(payload, now)).toBe(expected);
  });
});

describe("same-origin writes", () => {
  const url = "https://chat.example.org/v1/conversations";
  it.each([
    ["GET without Origin", "GET", null, true],
    ["HEAD from elsewhere", "HEAD", "https://evil.example", true],
    ["POST from the page", "POST", "https://chat.example.org", true],
    ["DELETE from the page", "DELETE", "https://chat.example.org", true],
    ["POST without Origin", "POST", null, false],
    ["POST from another site", "POST", "https://evil.example", false],
    ["POST from another port", "POST", "https://chat.example.org:8443", false],
    ["POST from http", "POST", "http://chat.example.org", false],
    ["POST from an opaque origin", "POST", "null", false],
    ["POST from a look-alike", "POST", "https://chat.example.org.evil.example", false],
    ["POST with junk Origin", "POST", "not a url", false],
    ["POST with an Origin that has a path", "POST", "https://chat.example.org/x", false],
  ])("%s", (_name, method, origin, expected) => {
    expect(isSameOriginWrite(method, url, origin)).toBe(expected);
  });
});

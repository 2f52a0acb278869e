import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { actorFrom, carriesAdminToken, defaultActor } from "./auth.ts";

const token = "s3cret-token-0123456789";

describe("carriesAdminToken", () => {
  it("accepts the token as a Bearer credential, whatever the scheme's case", () => {
    assert.equal(carriesAdminToken(`Bearer ${token}`, token), true);
    assert.equal(carriesAdminToken(`bearer ${token}`, token), true);
  });

  it("accepts the token as the password of HTTP Basic, whatever the user name", () => {
    const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
    assert.equal(carriesAdminToken(basic(`registry:${token}`), token), true);
    assert.equal(carriesAdminToken(basic(`:${token}`), token), true);
    assert.equal(carriesAdminToken(basic(`${token}:`), token), false);
    assert.equal(carriesAdminToken(basic(token), token), false);
    assert.equal(carriesAdminToken(basic("registry:wrong"), token), false);
  });

  it("refuses a missing header, another scheme, a wrong or partial token", () => {
    assert.equal(carriesAdminToken(undefined, token), false);
    assert.equal(carriesAdminToken("", token), false);
    assert.equal(carriesAdminToken(`Basic ${token}`, token), false);
    assert.equal(carriesAdminToken(token, token), false);
    assert.equal(carriesAdminToken("Bearer wrong", token), false);
    assert.equal(carriesAdminToken(`Bearer ${token.slice(0, -1)}`, token), false);
    assert.equal(carriesAdminToken(`Bearer ${token}x`, token), false);
    assert.equal(carriesAdminToken(`Bearer ${token} extra`, token), false);
  });
});

describe("actorFrom", () => {
  it("defaults to admin and trims what is given", () => {
    assert.equal(actorFrom(undefined), defaultActor);
    assert.equal(actorFrom("  alice@example.com "), "alice@example.com");
  });

  it("refuses an empty, oversized or control-character actor, naming the header", () => {
    for (const bad of ["", "   ", "a".repeat(201), "alice\nbob", "tab\there"]) {
      assert.throws(() => actorFrom(bad), { code: "WAL_INVALID_ARGUMENT", field: "X-WAL-Actor" });
    }
  });
});

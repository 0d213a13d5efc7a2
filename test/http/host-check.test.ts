import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostAllowed, hostName, isLoopbackHost } from "../../src/http/host-check.ts";

describe("the Host check of a loopback-bound server (DNS rebinding)", () => {
  it("knows loopback names and addresses", () => {
    for (const h of [
      "localhost",
      "LOCALHOST",
      "app.localhost",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
    ])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ["0.0.0.0", "10.0.0.1", "evil.example", "localhost.evil.example", "128.0.0.1", "::"])
      assert.equal(isLoopbackHost(h), false, h);
  });

  it("reads the host name of a Host header", () => {
    assert.equal(hostName("Example.COM:9464"), "example.com");
    assert.equal(hostName("[::1]:9464"), "::1");
    assert.equal(hostName("localhost"), "localhost");
    assert.equal(hostName(undefined), "");
  });

  it("refuses other names only on a loopback address", () => {
    assert.equal(hostAllowed("localhost:1", "127.0.0.1", []), true);
    assert.equal(hostAllowed("evil.example:1", "127.0.0.1", []), false);
    assert.equal(hostAllowed("evil.example:1", "::1", []), false);
    assert.equal(hostAllowed("evil.example:1", "localhost", []), false);
    assert.equal(hostAllowed("tend.internal:1", "127.0.0.1", ["tend.internal"]), true);
    assert.equal(hostAllowed("evil.example:1", "0.0.0.0", []), true, "bound elsewhere: no check");
    assert.equal(hostAllowed(undefined, "127.0.0.1", []), true, "no Host header: no browser page");
  });
});

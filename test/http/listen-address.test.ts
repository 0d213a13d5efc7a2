import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkHttpOptions, parseHttpAddress } from "../../src/http/options.ts";

/** The TendError `fn` throws (failing when it throws nothing or something else). */
function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail("expected an error");
}

describe("parseHttpAddress: a listen address from the command line", () => {
  it("parses PORT, :PORT, HOST:PORT and [IPv6]:PORT", () => {
    assert.deepEqual(parseHttpAddress("9464"), { port: 9464 });
    assert.deepEqual(parseHttpAddress(":9464"), { port: 9464 });
    assert.deepEqual(parseHttpAddress("0.0.0.0:9464"), { port: 9464, host: "0.0.0.0" });
    assert.deepEqual(parseHttpAddress("[::1]:0", "--listen"), { port: 0, host: "::1" });
  });

  it("errors name the flag the user typed: --http by default, or the one given", () => {
    for (const [text, expected] of [
      ["localhost:abc", /^Invalid --listen: got "localhost:abc", expected PORT or HOST:PORT/],
      ["99999", /^Invalid --listen: got "99999", expected a port from 0 to 65535\.$/],
      ["bad host:80", /^Invalid --listen: got "bad host:80", expected a host name or IP address/],
    ] as const) {
      const err = errorOf(() => checkHttpOptions(parseHttpAddress(text, "--listen")));
      assert.equal(err.code, "TEND_E_INVALID_HTTP_OPTIONS", text);
      assert.match(err.message, expected, text);
      assert.doesNotMatch(err.message, /--http|http\.port|http\.host/, text);
    }
    const byDefault = errorOf(() => parseHttpAddress("localhost:abc"));
    assert.match(byDefault.message, /^Invalid --http: got "localhost:abc"/);
    assert.match(errorOf(() => parseHttpAddress("70000")).message, /^Invalid --http: got "70000"/);
    assert.equal(errorOf(() => parseHttpAddress("1", "")).code, "TEND_E_INVALID_HTTP_OPTIONS");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeJsonValue, located, MAX_DEPTH } from "../../src/jobs/json-value.ts";
import { storableText, storableValue } from "../../src/store/index.ts";

function problem(value: unknown, root = "payload") {
  const r = encodeJsonValue(value);
  if (r.ok) return assert.fail(`expected ${root} to be refused`);
  return located(r.problem, root);
}

describe("what a job may carry (encodeJsonValue)", () => {
  it("encodes plain data exactly as JSON.stringify does", () => {
    const value = { a: [1, "two", true, null, { b: -0.25 }], "odd key": "x", u: undefined, at: new Date(0) };
    assert.deepEqual(encodeJsonValue(value), { ok: true, text: JSON.stringify(value) });
    assert.deepEqual(encodeJsonValue(null), { ok: true, text: "null" });
  });

  it("names the path of the first bad value, with what JSON would make of it and what to do", () => {
    assert.deepEqual(problem({ items: [0, 1, 2, new Map()] }), {
      path: "payload.items[3]",
      why: "is a Map, which JSON stores as {}",
      fix: "convert it, e.g. Object.fromEntries(map) or [...map]",
    });
    assert.equal(
      problem({ "a b": { c: [Number.NaN] } }, "items[2].payload").path,
      'items[2].payload["a b"].c[0]',
    );
    assert.match(problem(Number.NEGATIVE_INFINITY, "result").why, /-Infinity/);
    assert.equal(problem({ f() {} }).path, "payload.f");
    assert.equal(problem([Symbol("s")]).path, "payload[0]");
    // eslint-disable-next-line no-sparse-arrays
    assert.equal(problem([1, , 3]).path, "payload[1]", "a hole is undefined, stored as null");
  });

  it("checks strings only when the JSON holds a \\u escape, and then finds U+0000 and lone surrogates", () => {
    assert.match(problem({ k: ["ok", "a\u0000"] }).why, /U\+0000/);
    assert.equal(problem({ ["k\u0000"]: 1 }).path, 'payload["k\\u0000"]');
    assert.match(problem({ ["k\u0000"]: 1 }).why, /property name/);
    assert.match(problem("\udfff").why, /lone UTF-16 surrogate/);
    assert.equal(encodeJsonValue({ s: "\u0001\u001f", pair: "\ud83d\ude00", t: "\\u0000" }).ok, true);
  });

  it("follows toJSON like JSON does, and accepts class instances as their own properties", () => {
    class Point {
      x = 1;
      y = 2;
    }
    const withToJson = { toJSON: () => ({ inner: Number.NaN }) };
    assert.equal(encodeJsonValue({ p: new Point() }).ok, true);
    assert.equal(problem({ w: withToJson }).path, "payload.w.inner");
    assert.match(problem({ w: { toJSON: () => new Map() } }).why, /Map/);
    assert.deepEqual(encodeJsonValue({ b: Buffer.from("hi") }), {
      ok: true,
      text: '{"b":{"type":"Buffer","data":[104,105]}}',
    });
    assert.match(problem({ d: new Date("nope") }).why, /invalid Date/);
    assert.match(problem({ u8: new Uint8Array(2) }).why, /Uint8Array/);
  });

  it("reports a cycle, a BigInt and too deep nesting instead of throwing", () => {
    const a: Record<string, unknown> = {};
    a["list"] = [{ back: a }];
    assert.deepEqual(
      [problem(a).path, problem(a).why],
      ["payload.list[0].back", "refers back to an object that contains it (a cycle)"],
    );
    assert.equal(problem({ deep: { n: 10n } }).path, "payload.deep.n");
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
    assert.match(problem(deep).why, /nested more than/);
  });

  it("storableText escapes U+0000 and lone surrogates and keeps everything else", () => {
    assert.equal(
      storableText("a\u0000b \ud800 \udc00 \ud83d\ude00"),
      "a\\u0000b \\ud800 \\udc00 \ud83d\ude00",
    );
    const plain = "nothing to escape \u0007";
    assert.equal(storableText(plain), plain);
    assert.equal(storableText("cut \ud83d"), "cut \\ud83d");
  });

  it("storableValue writes U+0000 and lone surrogates in any string as their escapes' text", () => {
    const plain = { a: [1, "x\u0007", { "\\u0000": "\\u0000" }], pair: "\ud83d\ude00" };
    assert.equal(storableValue(plain), plain, "nothing to change: the same value");
    assert.deepEqual(storableValue({ ["k\u0000"]: ["a\u0000", "\ud800", "\\\u0000"] }), {
      "k\\u0000": ["a\\u0000", "\\ud800", "\\\\u0000"],
    });
  });
});

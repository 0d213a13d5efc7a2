import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { enqueueOptionsOf } from "../../src/http/api/action-routes.ts";
import { tokenId } from "../../src/http/api/auth.ts";
import { jobFilterOf, pageFrom, pageOf } from "../../src/http/api/query.ts";
import { statusOf } from "../../src/http/api/respond.ts";
import { escapeHtml, html } from "../../src/http/ui/html.ts";

describe("the admin API's pure parts", () => {
  it("pages: limit and cursor checked, one more row read tells whether a next page exists", () => {
    assert.deepEqual(pageOf(new URLSearchParams("")), { limit: 50 });
    assert.deepEqual(pageOf(new URLSearchParams("limit=2&before=10")), { limit: 2, beforeId: "10" });
    for (const bad of ["limit=0", "limit=501", "limit=1.5", "before=-1", "before=1e3"])
      assert.throws(() => pageOf(new URLSearchParams(bad)), { code: "TEND_E_ADMIN_BAD_REQUEST" }, bad);
    const rows = [{ id: "9" }, { id: "8" }, { id: "7" }];
    assert.deepEqual(pageFrom(rows, 2), { items: [{ id: "9" }, { id: "8" }], next: "8" });
    assert.deepEqual(pageFrom(rows, 3), { items: rows, next: null });
    assert.deepEqual(jobFilterOf(new URLSearchParams("state=discarded&queue=q&kind=k&queue=")), {
      limit: 50,
      state: "discarded",
      queue: "q",
      kind: "k",
    });
    assert.throws(() => jobFilterOf(new URLSearchParams("state=lost")), { code: "TEND_E_ADMIN_BAD_REQUEST" });
  });

  it("statuses by code, token ids, enqueue options from JSON", () => {
    assert.equal(statusOf("TEND_E_ADMIN_READ_ONLY"), 403);
    assert.equal(statusOf("TEND_E_ADMIN_FORBIDDEN"), 403);
    assert.equal(statusOf("TEND_E_ADMIN_NOT_FOUND"), 404);
    assert.equal(statusOf("TEND_E_ADMIN_CONFLICT"), 409);
    assert.equal(statusOf("TEND_E_INVALID_JOB_OPTIONS"), 400);
    assert.equal(statusOf("TEND_E_STORE_UNAVAILABLE"), 500);
    assert.match(tokenId("a-token-of-sixteen+"), /^[0-9a-f]{16}$/);
    assert.notEqual(tokenId("a"), tokenId("b"));
    const options = enqueueOptionsOf({ runAt: "2030-01-01T00:00:00Z", queue: "q" });
    assert.ok(options["runAt"] instanceof Date);
    assert.throws(() => enqueueOptionsOf({ tx: 1 }), { code: "TEND_E_ADMIN_BAD_REQUEST" });
    assert.throws(() => enqueueOptionsOf({ runAt: "soon" }), { code: "TEND_E_ADMIN_BAD_REQUEST" });
    assert.throws(() => enqueueOptionsOf([]), { code: "TEND_E_ADMIN_BAD_REQUEST" });
  });

  it("html escapes every interpolated value and keeps what it built", () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const inner = html`<b>${"<i>"}</b>`;
    assert.equal(
      html`<p>${inner}${[1, "<", null, undefined, false]}</p>`.text,
      "<p><b>&lt;i&gt;</b>1&lt;</p>",
    );
  });
});

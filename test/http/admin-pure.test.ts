import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { enqueueOptionsOf } from "../../src/http/api/action-routes.ts";
import { tokenId } from "../../src/http/api/auth.ts";
import { jobFilterOf, pageFrom, pageOf, parseUtcTime } from "../../src/http/api/query.ts";
import { statusOf } from "../../src/http/api/respond.ts";
import { sseMessage } from "../../src/http/api/events.ts";
import { jobView } from "../../src/http/api/job-view.ts";
import { checkHttpOptions } from "../../src/http/options.ts";
import { cookieOf, sameOrigin, sessionValue, validSession } from "../../src/http/api/session.ts";
import { windowStart } from "../../src/http/api/list-page.ts";
import { sessionCookie } from "../../src/http/ui/routes.ts";
import { bulkStates, type JobRecord } from "../../src/store/index.ts";
import { bulkActionOf, bulkFilterOf, bulkTarget } from "../../src/http/api/bulk-routes.ts";
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

  it("event stream messages are one event line and one JSON data line", () => {
    assert.equal(sseMessage("job", { job: null }), 'event: job\ndata: {"job":null}\n\n');
    assert.equal(sseMessage("queues", { q: "a\nb" }), 'event: queues\ndata: {"q":"a\\nb"}\n\n');
  });

  it("a job's view never holds its lease token, and hides payload, result, progress and keys when asked", () => {
    const job = {
      id: "1",
      payload: { secret: 1 },
      result: { ok: 2 },
      leaseToken: "t",
    } as unknown as JobRecord;
    assert.deepEqual(jobView(job, false), { id: "1", payload: { secret: 1 }, result: { ok: 2 } });
    assert.deepEqual(jobView(job, true), {
      id: "1",
      payload: null,
      result: null,
      progress: null,
      uniqueKey: null,
      payloadHidden: true,
    });
    const keyed = { ...job, concurrencyKey: "tenant:a", uniqueKey: "u:a", progress: { n: 1 } } as JobRecord;
    assert.deepEqual(
      [jobView(keyed, true).concurrencyKey, jobView(keyed, true).uniqueKey, jobView(keyed, true).progress],
      [null, null, null],
    );
  });

  it("http.dashboard is a boolean or an options object", () => {
    assert.equal(checkHttpOptions({ port: 0, dashboard: true }).hidePayloads, false);
    const hidden = checkHttpOptions({ port: 0, dashboard: { hidePayloads: true } });
    assert.equal(hidden.dashboard, true);
    assert.equal(hidden.hidePayloads, true);
    assert.throws(() => checkHttpOptions({ port: 0, dashboard: { hide: true } }), {
      code: "TEND_E_UNKNOWN_OPTION",
    });
    assert.throws(() => checkHttpOptions({ port: 0, dashboard: { hidePayloads: "yes" } }), {
      code: "TEND_E_INVALID_HTTP_OPTIONS",
    });
  });

  it("bulk actions: the states each takes, filters checked, the audit target", () => {
    assert.deepEqual(bulkStates("retry"), ["completed", "discarded", "cancelled"]);
    assert.deepEqual(bulkStates("cancel", "scheduled"), ["scheduled"]);
    assert.deepEqual(bulkStates("cancel", "running"), [], "a running job is cancelled on its own");
    assert.ok(!bulkStates("delete").includes("running"));
    assert.throws(() => bulkStates("explode" as never), { code: "TEND_E_INVALID_STORE_ARGUMENT" });
    assert.equal(bulkActionOf("cancel"), "cancel");
    assert.throws(() => bulkActionOf("drop"), { code: "TEND_E_ADMIN_BAD_REQUEST" });
    assert.deepEqual(bulkFilterOf({ state: "scheduled", queue: "q", kind: "" }), {
      state: "scheduled",
      queue: "q",
    });
    for (const bad of [{}, { kind: "" }, { state: "nope" }, { queue: 3 }, { limit: "5" }])
      assert.throws(() => bulkFilterOf(bad), { code: "TEND_E_ADMIN_BAD_REQUEST" }, JSON.stringify(bad));
    assert.equal(bulkTarget({ queue: "a&b", state: "discarded" }), "jobs?state=discarded&queue=a%26b");
  });

  it("login sessions: an expiring HMAC of the token, read from the cookie, only from this origin", () => {
    const token = "session-token-0123456789";
    const v = sessionValue(token, 1_000);
    assert.ok(validSession(v, token, 2_000));
    assert.ok(!validSession(v, token, 1_000 + 12 * 3_600_000), "expired");
    assert.ok(!validSession(v, `${token}x`, 2_000), "another token");
    assert.ok(
      !validSession(
        v.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
        token,
        2_000,
      ),
      "tampered",
    );
    assert.ok(!validSession(undefined, token, 0));
    assert.equal(cookieOf("a=1; tend_admin=xyz; b=2", "tend_admin"), "xyz");
    assert.equal(cookieOf(undefined, "tend_admin"), undefined);
    assert.ok(sameOrigin({ origin: "http://127.0.0.1:9470", host: "127.0.0.1:9470" }));
    assert.ok(!sameOrigin({ origin: "null", host: "127.0.0.1:9470" }));
    assert.ok(!sameOrigin({ origin: "http://evil.example", host: "127.0.0.1:9470" }));
    assert.ok(!sameOrigin({ host: "127.0.0.1:9470" }));
    assert.match(
      sessionCookie("v", false),
      /^tend_admin=v; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    assert.match(sessionCookie("v", true), /; Secure;/);
    assert.match(sessionCookie(null, false), /Max-Age=0$/);
  });

  it("a filtered page's window of ids stops at the first id", () => {
    assert.equal(windowStart(1_000_001n, 100_000), 900_001n);
    assert.equal(windowStart(50n, 100_000), null);
  });
});

describe("the admin API's time parameters", () => {
  it("are ISO 8601, UTC without an offset, and real calendar dates", () => {
    assert.equal(
      parseUtcTime("2026-12-02T13:00"),
      Date.UTC(2026, 11, 2, 13, 0),
      "no offset: UTC, not local time",
    );
    assert.equal(parseUtcTime("2026-12-02T13:00Z"), Date.UTC(2026, 11, 2, 13, 0));
    assert.equal(parseUtcTime("2026-12-02"), Date.UTC(2026, 11, 2));
    assert.equal(parseUtcTime("2026-12-02T13:00:05.25+01:30"), Date.UTC(2026, 11, 2, 11, 30, 5, 250));
    assert.equal(parseUtcTime("2026-12-02 13:00:00-05:00"), Date.UTC(2026, 11, 2, 18, 0));
    for (const bad of [
      "2026-02-30",
      "2026-13-45T00:00Z",
      "2026-12-02T24:00Z",
      "yesterday",
      "2026-12-02T13:00+25:00",
      "12/02/2026",
    ])
      assert.ok(Number.isNaN(parseUtcTime(bad)), bad);
  });
});

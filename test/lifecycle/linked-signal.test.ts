import assert from "node:assert/strict";
import { getEventListeners, once } from "node:events";
import { describe, it } from "node:test";
import { linkSignals } from "../../src/lifecycle/index.ts";

describe("linkSignals", () => {
  it("aborts with the parent's reason when a parent aborts", () => {
    const parent = new AbortController();
    const link = linkSignals([new AbortController().signal, parent.signal]);
    parent.abort(new Error("stopping"));
    assert.equal(link.signal.aborted, true);
    assert.equal((link.signal.reason as Error).message, "stopping");
    assert.equal(link.timedOut, false);
  });

  it("is aborted at once when a parent already is", () => {
    const link = linkSignals([AbortSignal.abort("gone")]);
    assert.equal(link.signal.aborted, true);
    assert.equal(link.signal.reason, "gone");
  });

  it("times out with a TimeoutError and says so", async () => {
    const parent = new AbortController();
    const link = linkSignals([parent.signal], 5);
    await once(link.signal, "abort");
    assert.equal(link.timedOut, true);
    assert.equal((link.signal.reason as DOMException).name, "TimeoutError");
    assert.equal(getEventListeners(parent.signal, "abort").length, 0, "its listener left the parent");
  });

  it("abort() aborts it alone, not the parent", () => {
    const parent = new AbortController();
    const link = linkSignals([parent.signal]);
    link.abort();
    assert.equal(link.signal.aborted, true);
    assert.equal((link.signal.reason as DOMException).name, "AbortError");
    assert.equal(parent.signal.aborted, false);
  });

  it("leaves nothing on a long-lived parent after dispose, however many times it is linked", () => {
    const parent = new AbortController();
    for (let i = 0; i < 10_000; i++) linkSignals([parent.signal], 60_000).dispose();
    assert.equal(getEventListeners(parent.signal, "abort").length, 0);
    const link = linkSignals([parent.signal]);
    link.dispose();
    parent.abort();
    assert.equal(link.signal.aborted, false, "a disposed link no longer follows its parent");
  });
});

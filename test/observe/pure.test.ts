import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createTraceState, trace, TraceFlags } from "@opentelemetry/api";
import { ConvergeWatch } from "../../src/observe/converge-watch.ts";
import { InboxWatch } from "../../src/observe/inbox-watch.ts";
import { errorType } from "../../src/observe/error-type.ts";
import { outcomeLabel } from "../../src/observe/job-metrics.ts";
import { formatTraceContext, parseTraceContext } from "../../src/observe/trace-context.ts";

describe("observability's pure parts", () => {
  it("stores a span's W3C trace context and reads it back; anything else reads as none", () => {
    const context = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: TraceFlags.SAMPLED,
    };
    const text = formatTraceContext(context);
    assert.equal(text, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assert.deepEqual(parseTraceContext(text), { ...context, isRemote: true });
    const withState = formatTraceContext({ ...context, traceState: createTraceState("vendor=abc") });
    assert.equal(withState, `${text} vendor=abc`);
    assert.equal(parseTraceContext(withState)?.traceState?.get("vendor"), "abc");
    assert.equal(
      formatTraceContext({ ...context, traceId: "0".repeat(32) }),
      null,
      "an invalid (no-op) span",
    );
    for (const bad of [
      null,
      "",
      "garbage",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`,
    ]) {
      assert.equal(parseTraceContext(bad), null, String(bad));
    }
  });

  it("labels outcomes and error types with small fixed sets", () => {
    assert.equal(outcomeLabel("failed", { discarded: true }), "discarded");
    assert.equal(outcomeLabel("failed", {}), "failed");
    assert.equal(outcomeLabel("lostLeases", {}), "lost");
    assert.equal(
      errorType(Object.assign(new Error("x"), { code: "TEND_E_JOB_TIMEOUT" })),
      "TEND_E_JOB_TIMEOUT",
    );
    assert.equal(errorType(new TypeError("x")), "TypeError");
    assert.equal(errorType("a string"), "_OTHER");
  });
});

describe("converger and inbox observers cost nothing unwatched", () => {
  it("makes no observation without an SDK recording and without channel subscribers, and one with a subscriber", () => {
    const watch = new ConvergeWatch();
    watch.tracer = trace.getTracer("tend"); // no SDK registered: spans do not record
    assert.equal(watch.run("c", "k", 0), undefined);
    assert.equal(watch.sweep("c"), undefined);
    const inbox = new InboxWatch();
    inbox.tracer = trace.getTracer("tend");
    assert.equal(inbox.fileStarted("i", "f.txt"), undefined);
    const seen: unknown[] = [];
    const listener = (m: unknown): void => void seen.push(m);
    subscribe("tend:converger:end", listener);
    try {
      const run = watch.run("c", "k", 2);
      assert.ok(run, "a subscriber gets an observation");
      assert.equal(
        run.run(() => 7),
        7,
      );
      run.end("unchanged", null);
      assert.equal(seen.length, 1);
      assert.deepEqual(
        { ...(seen[0] as object), durationMs: 0 },
        {
          converger: "c",
          key: "k",
          failures: 2,
          outcome: "unchanged",
          durationMs: 0,
          error: null,
        },
      );
    } finally {
      unsubscribe("tend:converger:end", listener);
    }
  });
});

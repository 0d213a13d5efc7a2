import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createTraceState, TraceFlags } from "@opentelemetry/api";
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

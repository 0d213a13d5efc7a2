import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobsWatch } from "../../src/observe/jobs-watch.ts";
import { tendTracer, tracesNothing } from "../../src/observe/tracer.ts";
import type { ClaimedJob } from "../../src/store/index.ts";
import { registerInMemorySdk } from "./fixtures/sdk.ts";

const job = (id: string): ClaimedJob =>
  ({
    id,
    kind: "mail",
    queue: "default",
    payload: {},
    attempt: 1,
    maxAttempts: 3,
    leaseToken: "t",
    started: true,
    runAt: new Date(),
    traceContext: null,
  }) as ClaimedJob;

describe("tend's tracer with and without an OpenTelemetry SDK", () => {
  it("builds no span while no SDK is registered, and records as soon as one is, through a tracer taken before", async () => {
    const tracer = tendTracer();
    assert.equal(tracesNothing(tracer), true, "no SDK yet");
    const watch = new JobsWatch();
    watch.tracer = tracer;
    assert.equal(watch.attempt(job("1")), undefined, "a tracer alone, no SDK: no observation");

    const sdk = registerInMemorySdk();
    try {
      assert.equal(tracesNothing(tracer), false, "the SDK registered after the tracer was taken");
      const observation = watch.attempt(job("2"));
      assert.ok(observation?.run !== undefined, "a recording span to run the handler in");
      observation.end("completed", {});
      const spans = sdk.spans();
      assert.deepEqual(
        spans.map((s) => [s.name, s.attributes["messaging.message.id"], s.attributes["tend.job.outcome"]]),
        [["process default", "2", "completed"]],
      );
    } finally {
      await sdk.shutdown();
    }
    assert.equal(tracesNothing(tendTracer()), true, "a tracer taken after the SDK was removed");
  });

  it("never skips a tracer it did not make (it may record without any global SDK)", () => {
    let started = 0;
    const custom = {
      startSpan: () => {
        started++;
        return tendTracer().startSpan("x");
      },
      startActiveSpan: () => undefined,
    } as unknown as ReturnType<typeof tendTracer>;
    assert.equal(tracesNothing(custom), false);
    const watch = new JobsWatch();
    watch.tracer = custom;
    watch.attempt(job("3"));
    assert.equal(started, 1);
  });
});

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { createApp } from "../../src/app.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { registerInMemorySdk, type SpanJson } from "./fixtures/sdk.ts";

const run = promisify(execFile);
const worker = join(import.meta.dirname, "fixtures", "traced-worker.ts");

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`OpenTelemetry spans across two processes on ${driver}`, () => {
    let backend: Backend | null;
    let sdk: ReturnType<typeof registerInMemorySdk>;

    before(async () => {
      backend = await createBackend(driver);
      sdk = registerInMemorySdk();
    });
    after(async () => {
      await sdk?.shutdown();
      await backend?.cleanup();
    });

    it("one `send` span per enqueue here, one `process` span per attempt in the worker process, linked through the stored trace context", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable");
      const capture = captureLog();
      const producer = createApp({ database: backend.url, log: capture.log });
      t.after(() => producer.close());
      const ids = await trace.getTracer("test").startActiveSpan("request", async (request) => {
        const a = await producer.enqueue("traced.work", { n: 1 });
        const b = await producer.enqueue("traced.work", { n: 2, fail: true });
        request.end();
        return [a.id, b.id];
      });
      const sends = sdk.spans().filter((s) => s.name === "send default");
      assert.equal(sends.length, 2);
      const request = sdk.spans().find((s) => s.name === "request")!;
      for (const send of sends) {
        assert.equal(send.kind, SpanKind.PRODUCER);
        assert.equal(send.parentSpanId, request.spanId, "the send span is a child of the caller's span");
        assert.equal(send.attributes["messaging.system"], "tend");
        assert.equal(send.attributes["messaging.operation.name"], "send");
        assert.equal(send.attributes["messaging.destination.name"], "default");
        assert.equal(send.attributes["tend.job.kind"], "traced.work");
      }
      assert.deepEqual(sends.map((s) => s.attributes["messaging.message.id"]).sort(), [...ids].sort());

      const { stdout } = await run(process.execPath, [worker, backend.url, "2"], { timeout: 60_000 });
      const spans = JSON.parse(stdout.trim().split("\n").at(-1)!) as SpanJson[];
      const processes = spans.filter((s) => s.name === "process default");
      // Two jobs, one of which failed once: three attempts.
      assert.equal(processes.length, 3, JSON.stringify(spans.map((s) => s.name)));
      for (const span of processes) {
        const id = span.attributes["messaging.message.id"];
        const send = sends.find((s) => s.attributes["messaging.message.id"] === id)!;
        assert.equal(span.kind, SpanKind.CONSUMER);
        assert.deepEqual(
          span.links,
          [{ traceId: send.traceId, spanId: send.spanId }],
          "linked to its enqueuer",
        );
        assert.equal(span.attributes["messaging.system"], "tend");
        assert.equal(span.attributes["messaging.operation.name"], "process");
        assert.equal(span.attributes["messaging.destination.name"], "default");
        assert.equal(span.attributes["tend.job.kind"], "traced.work");
        const inner = spans.find((s) => s.name === "inner" && s.parentSpanId === span.spanId);
        assert.ok(inner, "the handler's own span is a child of the attempt's span");
      }
      const failed = processes.filter((s) => s.status === SpanStatusCode.ERROR);
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.attributes["error.type"], "Error");
      assert.equal(failed[0]!.attributes["tend.job.attempt"], 1);
      assert.deepEqual(processes.map((s) => s.attributes["tend.job.attempt"]).sort(), [1, 1, 2]);
    });
  });
}

import assert from "node:assert/strict";
import { hostname } from "node:os";
import { describe, it } from "node:test";
import { createApp } from "../../src/app.ts";
import { createConverger } from "../../src/converge/runner.ts";
import { Jobs } from "../../src/jobs/jobs.ts";
import { defaultWorkerId } from "../../src/lifecycle/worker-id.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { Store } from "../../src/store/store.ts";

const log = createLogger({ level: "silent" });
const definition = { name: "archive", find: () => [], converge: () => undefined };
const noStore = (): Promise<Store> => Promise.reject(new Error("not used"));

describe("the worker identity of a process", () => {
  it("is TEND_WORKER_ID when set, else host:pid:random made once per process", () => {
    assert.equal(defaultWorkerId({ TEND_WORKER_ID: "web-1.3" }), "web-1.3");
    const made = defaultWorkerId({});
    assert.match(
      made,
      new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${process.pid}:[0-9a-f]{8}$`),
    );
    assert.equal(defaultWorkerId({ TEND_WORKER_ID: "" }), made, "an empty TEND_WORKER_ID counts as unset");
    assert.equal(defaultWorkerId({}), made, "the same identity on every call");
  });

  it("is shared by the jobs worker and convergers unless given explicitly", () => {
    const saved = process.env["TEND_WORKER_ID"];
    delete process.env["TEND_WORKER_ID"];
    try {
      const jobs = new Jobs(noStore, { log });
      const converger = createConverger(definition, { store: {} as Store, log });
      assert.equal(jobs.workerId, defaultWorkerId());
      assert.equal(converger.holderId, jobs.workerId);
      assert.equal(new Jobs(noStore, { log, workerId: "mine" }).workerId, "mine");
      assert.equal(
        createConverger(definition, { store: {} as Store, log, holderId: "other" }).holderId,
        "other",
      );
      assert.throws(() => new Jobs(noStore, { log, workerId: "" }), { code: "TEND_E_INVALID_JOB_OPTIONS" });
    } finally {
      if (saved !== undefined) process.env["TEND_WORKER_ID"] = saved;
    }
  });

  it("of an app: its convergers hold leases under its jobs worker id", async () => {
    const app = createApp({ log, database: "sqlite::memory:", jobs: { workerId: "app-7" } });
    app.converger(definition);
    await app.start();
    try {
      assert.equal(app.getConverger("archive")?.holderId, "app-7");
    } finally {
      await app.close();
    }
  });
});

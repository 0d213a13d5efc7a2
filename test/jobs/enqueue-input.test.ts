import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ErrorCode } from "../../src/errors/catalogue.ts";
import { isTendError } from "../../src/errors/tend-error.ts";
import { Jobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeTempDir } from "../support/tmp.ts";

const log = createLogger({ level: "silent", pretty: false });
const code = (c: ErrorCode) => (e: unknown) => isTendError(e, c);

/** A Jobs whose store is never reached: every case here fails before it. */
function jobs(): Jobs {
  return new Jobs(async () => assert.fail("the store is not reached on bad input"), { log });
}

describe("enqueue input reaches no database unchecked", () => {
  it("options that are not an object fail with a TEND_E_ code, not a TypeError", async () => {
    const j = jobs();
    const item = { kind: "k" };
    for (const bad of [null, 7, "tx", [1]]) {
      const options = bad as never;
      await assert.rejects(j.enqueue("k", {}, options), code("TEND_E_INVALID_JOB_OPTIONS"));
      await assert.rejects(j.enqueueMany([item], options), code("TEND_E_INVALID_JOB_OPTIONS"));
      await assert.rejects(j.batch([item], options), code("TEND_E_INVALID_JOB_OPTIONS"));
      await assert.rejects(j.enqueueFlow(item, options), code("TEND_E_INVALID_JOB_OPTIONS"));
      await assert.rejects(j.batchResults("b1", options), code("TEND_E_INVALID_JOB_OPTIONS"));
      assert.throws(() => j.cron("* * * * *", "k", {}, options), code("TEND_E_INVALID_CRON"));
    }
  });

  it("a delay beyond a hundred years and a runAt outside years 1-9999 are refused alike on every driver", async () => {
    const j = jobs();
    await assert.rejects(j.enqueue("k", {}, { delay: 1e16 }), code("TEND_E_INVALID_JOB_OPTIONS"));
    for (const runAt of [new Date("-005000-01-01T00:00:00Z"), new Date("+010000-01-01T00:00:00Z")])
      await assert.rejects(j.enqueue("k", {}, { runAt }), code("TEND_E_INVALID_JOB_OPTIONS"));
  });

  it("holes in `after` or in a flow's children are bad input, not skipped", async () => {
    const j = jobs();
    await assert.rejects(
      j.enqueue("k", {}, { after: new Array<string>(2) }),
      (e: unknown) => isTendError(e, "TEND_E_INVALID_JOB_OPTIONS") && /after\[0\]/.test((e as Error).message),
    );
    await assert.rejects(
      j.enqueueFlow({ kind: "root", children: new Array(2) }),
      code("TEND_E_INVALID_JOB_FLOW"),
    );
  });
});

describe("an enqueue's concurrency limit without a key", () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("limits the kind as a whole, as the same option on the kind does", async () => {
    const tmp = await makeTempDir("tend-enqueue-input-");
    cleanups.push(tmp.cleanup);
    const store: Store = await openStore(`sqlite:${join(tmp.dir, "t.db")}`);
    cleanups.push(() => store.close());
    const j = new Jobs(async () => store, { log });
    const { id } = await j.enqueue("report.build", {}, { concurrencyLimit: 1 });
    const job = await j.get(id);
    assert.deepEqual([job?.concurrencyKey, job?.concurrencyLimit], ["report.build", 1]);
  });
});

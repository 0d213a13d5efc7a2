import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type JobRecord, openStore, type Store } from "../../src/store/index.ts";
import { createTestDatabase, requirePostgres, type TestDatabase } from "../support/postgres.ts";
import { waitFor } from "../support/wait.ts";
import { nextReady, type Running, readyWorkers, runSupervisor, sleepJob } from "./helpers.ts";

const APP = join(import.meta.dirname, "fixtures", "app.ts");
let db: TestDatabase | undefined;
let store: Store | undefined;
const running: Running[] = [];

before(async () => {
  if (!(await requirePostgres())) return;
  db = await createTestDatabase();
  store = await openStore(db.url);
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await store?.close();
  await db?.drop();
});

describe("supervisor with real jobs (PostgreSQL)", () => {
  it("rescues a SIGKILLed worker's job at once through the store; another worker completes it; backlog scales up", async (t) => {
    if (store === undefined || db === undefined)
      return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
    const s = store;
    const r = runSupervisor({
      program: APP,
      store: s,
      database: db.url,
      min: 2,
      max: 3,
      scaling: { jobsPerWorker: 2 },
    });
    running.push(r);
    t.after(() => r.stop());
    await waitFor(() => readyWorkers(r.supervisor).length === 2, {
      timeoutMs: 15_000,
      message: "2 ready workers",
    });
    const [inserted] = await s.jobs.insert([sleepJob(800)]);
    const id = inserted!.id;
    const claimed = await waitFor(async () => {
      const j = await s.jobs.get(id);
      return j?.state === "running" ? j : null;
    });
    const victim = r.supervisor.workers().find((w) => w.id === claimed.workerId);
    assert.ok(victim, `the job runs in a supervised worker (${claimed.workerId})`);
    const killedAt = Date.now();
    const replaced = nextReady(r.supervisor, (w) => w.id !== victim.id);
    process.kill(victim.pid, "SIGKILL");
    await replaced;
    const done: JobRecord = await waitFor(
      async () => {
        const j = await s.jobs.get(id);
        return j?.state === "completed" ? j : null;
      },
      { timeoutMs: 15_000, message: "job completed" },
    );
    assert.equal(done.attempt, 2);
    assert.notEqual(done.workerId, victim.id);
    assert.ok(Date.now() - killedAt < 10_000, "rescued long before its 30 s lease could expire");
    // A backlog read from PostgreSQL's statistics takes the fleet to max.
    await s.jobs.insert(Array.from({ length: 40 }, () => sleepJob(50)));
    await waitFor(() => r.supervisor.desired === 3 && readyWorkers(r.supervisor).length === 3, {
      timeoutMs: 15_000,
      message: "3 ready workers",
    });
  });
});

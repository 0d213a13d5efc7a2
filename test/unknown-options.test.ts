import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createApp } from "../src/app.ts";
import { AppConvergers } from "../src/converge/app-convergers.ts";
import { createConverger } from "../src/converge/runner.ts";
import { isTendError } from "../src/errors/tend-error.ts";
import { createInbox } from "../src/inbox/inbox.ts";
import { Jobs } from "../src/jobs/jobs.ts";
import { every } from "../src/lifecycle/every.ts";
import { main } from "../src/lifecycle/main.ts";
import { Manager } from "../src/lifecycle/manager.ts";
import { signalTask } from "../src/lifecycle/signals.ts";
import { createLogger } from "../src/log/logger.ts";
import { openStore } from "../src/store/open.ts";
import type { Store } from "../src/store/store.ts";
import { supervise } from "../src/supervise/run.ts";
import { createSupervisor } from "../src/supervise/supervisor.ts";
import { renderSystemdUnit } from "../src/supervise/unit.ts";
import { createSupervisedWorkerTask } from "../src/supervise/worker-side.ts";
import { assertConverged, convergeOnce } from "../src/testing.ts";
import { makeTempDir } from "./support/tmp.ts";

const log = createLogger({ level: "silent" });
const program = join(import.meta.dirname, "supervise", "fixtures", "worker.ts");
const noStore = (): Promise<Store> => Promise.reject(new Error("the store must not be reached"));
const definition = { name: "archive", find: () => [], converge: () => undefined };
const handler = () => undefined;

/** Asserts `err` is TEND_E_UNKNOWN_OPTION for `key`, given in `where`, suggesting `meant`. */
function unknown(key: string, where: string, meant: string) {
  return (err: unknown): boolean => {
    assert.ok(isTendError(err, "TEND_E_UNKNOWN_OPTION"), String(err));
    assert.equal(err.details["key"], key);
    assert.equal(err.details["where"], where);
    assert.equal(err.details["suggestion"], meant);
    assert.ok(err.message.includes(`did you mean "${meant}"?`), err.message);
    assert.ok((err.details["accepted"] as string[]).includes(meant));
    return true;
  };
}

describe("a misspelt option is an error at every entry point, naming the option meant", () => {
  const temp = makeTempDir("tend-unknown-");
  after(async () => (await temp).cleanup());

  it("createApp and its store, jobs and convergers options", () => {
    assert.throws(
      () => createApp({ databse: "sqlite::memory:" } as never),
      unknown("databse", "createApp options", "database"),
    );
    assert.throws(
      () => createApp({ store: { poolsize: 4 } as never }),
      unknown("poolsize", "store options", "poolSize"),
    );
    assert.throws(
      () => createApp({ jobs: { concurency: 2 } as never }),
      unknown("concurency", "jobs options", "concurrency"),
    );
    assert.throws(
      () => createApp({ convergers: { concurency: 2 } as never }),
      unknown("concurency", "convergers options", "concurrency"),
    );
  });

  it("job kind options (app.job) and their backoff", () => {
    const app = createApp({ log });
    assert.throws(
      () => app.job("email.send", handler, { maxAtempts: 3 } as never),
      unknown("maxAtempts", "job kind options of email.send", "maxAttempts"),
    );
    assert.throws(
      () => app.job("email.send", handler, { backoff: { bse: "1s" } as never }),
      unknown("bse", "backoff options of job kind email.send", "base"),
    );
  });

  it("cron options (app.cron)", () => {
    const app = createApp({ log });
    assert.throws(
      () => app.cron("0 3 * * *", "records.purge", {}, { timezon: "UTC" } as never),
      unknown("timezon", "cron options of records.purge", "timezone"),
    );
  });

  it("enqueue, enqueueMany and batch options and items, before the store is reached", async () => {
    const jobs = new Jobs(noStore, { log });
    await assert.rejects(
      jobs.enqueue("report.build", {}, { dealy: "5m" } as never),
      unknown("dealy", "enqueue options of report.build", "delay"),
    );
    await assert.rejects(
      jobs.enqueueMany([{ kind: "k", priorty: 1 } as never]),
      unknown("priorty", "enqueueMany items[0]", "priority"),
    );
    await assert.rejects(
      jobs.enqueueMany([{ kind: "k" }], { txn: {} } as never),
      unknown("txn", "enqueueMany options", "tx"),
    );
    await assert.rejects(
      jobs.batch([{ kind: "k" }, { kind: "k", maxAttemps: 2 } as never]),
      unknown("maxAttemps", "batch items[1]", "maxAttempts"),
    );
    await assert.rejects(
      jobs.batch([{ kind: "k" }], { tX: {} } as never),
      unknown("tX", "batch options", "tx"),
    );
    await assert.rejects(jobs.list({ kin: "k" } as never), unknown("kin", "jobs.list filter", "kind"));
  });

  it("Jobs options, and their queues", () => {
    assert.throws(
      () => new Jobs(noStore, { log, leese: "30s" } as never),
      unknown("leese", "jobs options", "lease"),
    );
    assert.throws(
      () => new Jobs(noStore, { log, queues: { email: { concurency: 2 } as never } }),
      unknown("concurency", "jobs options queues.email", "concurrency"),
    );
  });

  it("batch wait options", async () => {
    const app = createApp({ log, database: `sqlite:${(await temp).dir}/batch.db` });
    try {
      const batch = await app.batch([{ kind: "k" }]);
      await assert.rejects(
        batch.results({ timout: "1s" } as never),
        unknown("timout", "batch wait options", "timeout"),
      );
      await assert.rejects(
        app.jobs.batchResults(batch.id, { pollIntervall: 10 } as never),
        unknown("pollIntervall", "batch wait options", "pollInterval"),
      );
    } finally {
      await app.close();
    }
  });

  it("converger definitions, their backoff and wakeOn entries, AppConvergers and createConverger", () => {
    const app = createApp({ log });
    assert.throws(
      () => app.converger({ ...definition, evry: "30s" } as never),
      unknown("evry", 'converger definition "archive"', "every"),
    );
    assert.throws(
      () => app.converger({ ...definition, backoff: { bas: "1s" } as never }),
      unknown("bas", 'backoff of converger "archive"', "base"),
    );
    assert.throws(
      () => app.converger({ ...definition, wakeOn: [{ tabel: "account" } as never] }),
      unknown("tabel", 'wakeOn entry of converger "archive"', "table"),
    );
    assert.throws(
      () => new AppConvergers({ concurency: 2 } as never),
      unknown("concurency", "convergers options", "concurrency"),
    );
    assert.throws(
      () => createConverger(definition, { store: {} as Store, log, holderID: "me" } as never),
      unknown("holderID", 'dependencies of converger "archive"', "holderId"),
    );
  });

  it("tend/testing helpers", async () => {
    const converger = createConverger(definition, { store: {} as Store, log });
    await assert.rejects(
      convergeOnce(converger, { throwOnErrors: true } as never),
      unknown("throwOnErrors", "convergeOnce options", "throwOnError"),
    );
    await assert.rejects(
      assertConverged(converger, { maxSweep: 3 } as never),
      unknown("maxSweep", "assertConverged options", "maxSweeps"),
    );
  });

  it("supervisor options, scaling and restart, supervise, the systemd unit and the worker side", async () => {
    assert.throws(
      () => createSupervisor({ program, hangTimeoutMs: 5_000 } as never),
      unknown("hangTimeoutMs", "supervisor options", "hangTimeout"),
    );
    assert.throws(
      () => createSupervisor({ program, scaling: { horizonSec: 1 } as never }),
      unknown("horizonSec", "supervisor scaling options", "horizon"),
    );
    assert.throws(
      () => createSupervisor({ program, restart: { perod: "1m" } as never }),
      unknown("perod", "supervisor restart options", "period"),
    );
    await assert.rejects(
      supervise({ program, log }, { exti: () => {} } as never),
      unknown("exti", "supervise run options", "exit"),
    );
    assert.throws(
      () => renderSystemdUnit({ workingDirectory: "/srv", execStart: "tend", stopBudgetMs: 1 } as never),
      unknown("stopBudgetMs", "systemd unit options", "stopBudget"),
    );
    assert.throws(
      () =>
        createSupervisedWorkerTask({
          probe: { inFlight: () => 0, lastCompletionAt: () => null },
          onStop: () => {},
          log,
          evn: {},
        } as never),
      unknown("evn", "supervised worker options", "env"),
    );
  });

  it("store options (openStore)", async () => {
    await assert.rejects(
      openStore(`sqlite:${(await temp).dir}/never.db`, { migarte: false } as never),
      unknown("migarte", "store options", "migrate"),
    );
    await assert.rejects(
      openStore(`sqlite:${(await temp).dir}/never.db`, { logg: log } as never),
      unknown("logg", "store options", "log"),
    );
    // `log` is a store option: an app hands the store its logger.
    const store = await openStore(`sqlite:${(await temp).dir}/logged.db`, { log, migrate: false });
    await store.close();
  });

  it("inbox options (also through app.inbox) and dependencies", async () => {
    const dir = join((await temp).dir, "inbox");
    const process = async () => {};
    assert.throws(
      () => createInbox({ dir, process, concurency: 2 } as never),
      unknown("concurency", `inbox options of ${dir}`, "concurrency"),
    );
    assert.throws(
      () => createApp({ log }).inbox({ dir, process, rescn: "1s" } as never),
      unknown("rescn", `inbox options of ${dir}`, "rescan"),
    );
    assert.throws(
      () => createInbox({ dir, process, name: "importer" }, { logger: log } as never),
      unknown("logger", "dependencies of importer", "log"),
    );
  });

  it("Manager, cleanup, main, every and signalTask options", async () => {
    assert.throws(
      () => new Manager({ log, shutdownTimout: "5s" } as never),
      unknown("shutdownTimout", "Manager options", "shutdownTimeout"),
    );
    assert.throws(
      () => new Manager({ log }).cleanup(() => {}, { timout: "1s" } as never),
      unknown("timout", "cleanup options", "timeout"),
    );
    await assert.rejects(
      main(() => {}, { log, singals: false } as never),
      unknown("singals", "main options", "signals"),
    );
    assert.throws(
      () => every("1s", async function tick() {}, { jiter: "1s" } as never),
      unknown("jiter", "every options of tick", "jitter"),
    );
    assert.throws(
      () => signalTask({ signal: ["SIGTERM"] } as never),
      unknown("signal", "signalTask options", "signals"),
    );
  });
});

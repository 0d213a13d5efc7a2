import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { makeJobs, uniqueQueue } from "../conformance/jobs/helpers.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { waitFor } from "../support/wait.ts";

/**
 * A job claimed ahead whose handler blocks its worker at once: the worker is killed for the hang
 * (as a supervisor does) and rescued, again and again. The job must reach maxLost and be discarded
 * as poisoned, and the job that ran before it in the same slot must not be blamed.
 */
const fixture = join(import.meta.dirname, "fixtures", "blocking-worker.ts");

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`a poison job claimed ahead (${driver})`, () => {
    let backend: Backend | null = null;
    const children: ChildProcess[] = [];
    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      await Promise.all(children.map(exited));
      await backend?.cleanup();
    });

    it("is counted toward maxLost and discarded as poisoned; the job before it completes", async (t) => {
      backend = await createBackend(driver);
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const store = await backend.open();
      const queue = uniqueQueue();
      const jobs = makeJobs(store);
      const short = await jobs.enqueue("short", {}, { queue, priority: -1, maxLost: 3 });
      const poison = await jobs.enqueue("block", {}, { queue, maxLost: 3 });
      let rounds = 0;
      for (; rounds < 6; rounds++) {
        const workerId = `blocking-${rounds}`;
        const child = spawn(process.execPath, [fixture], {
          env: { ...process.env, TEND_DATABASE_URL: backend.url, QUEUE: queue, WORKER_ID: workerId },
          stdio: ["ignore", "pipe", "inherit"],
        });
        children.push(child);
        let out = "";
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
        await waitFor(() => (out.includes(`blocking ${poison.id}\n`) ? true : null), {
          timeoutMs: 30_000,
          message: "the worker to block on the poison job",
        });
        // Hung: killed and rescued at once, as the supervisor does.
        child.kill("SIGKILL");
        await exited(child);
        await store.jobs.rescueWorker(workerId, "killed for a hang (test)");
        if ((await jobs.get(poison.id))?.state === "discarded") break;
      }
      const blocked = await jobs.get(poison.id);
      assert.equal(
        blocked?.state,
        "discarded",
        `the poison job after ${rounds + 1} kills: ${blocked?.state}`,
      );
      assert.equal(blocked?.lost, 3);
      assert.equal(blocked?.errors.at(-1)?.code, "TEND_E_JOB_POISONED");
      const before = await jobs.get(short.id);
      assert.equal(before?.state, "completed", "the job that ran before it in the slot completed");
      assert.ok((before?.lost ?? 0) <= 1, `it was blamed ${before?.lost} times`);
    });
  });
}

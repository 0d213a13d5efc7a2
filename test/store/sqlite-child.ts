/**
 * A child process for the SQLite multi-process tests. Talks to its parent over IPC:
 * it sends {ready:true}, waits for "go", does its work, sends {done:..., result} and exits.
 *   node sqlite-child.ts migrate <url>          -> result: names of migrations it applied
 *   node sqlite-child.ts claim <url> <workerId> -> result: "id:attempt" of every job it claimed (and completed)
 *   node sqlite-child.ts insert <url> <queue>   -> result: the inserted id
 *   node sqlite-child.ts work <url> <workerId>  -> claims (500 ms leases) and completes "mp" jobs forever,
 *                                                  never reporting: the parent SIGKILLs it mid-stream
 */
import { openStore } from "../../src/store/index.ts";

const [mode, url, arg] = process.argv.slice(2);

function send(message: unknown): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send?.(message, (err: Error | null) => (err ? reject(err) : resolve())),
  );
}

function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    process.once("message", () => resolve());
  });
}

async function main(): Promise<unknown> {
  if (url === undefined) throw new Error("usage: sqlite-child.ts <mode> <url> [arg]");
  if (mode === "migrate") {
    await send({ ready: true });
    await waitForGo();
    const store = await openStore(url, { migrate: false });
    try {
      return await store.migrate();
    } finally {
      await store.close();
    }
  }
  const store = await openStore(url, { migrate: false });
  try {
    await send({ ready: true });
    await waitForGo();
    if (mode === "claim") {
      const claimed: string[] = [];
      for (;;) {
        const jobs = await store.jobs.claim({
          queue: "mp",
          limit: 5,
          workerId: arg ?? "child",
          leaseMs: 60_000,
        });
        if (jobs.length === 0) break;
        for (const j of jobs) claimed.push(`${j.id}:${j.attempt}`);
        const done = await store.jobs.complete(
          jobs.map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: null })),
        );
        if (done.length !== jobs.length)
          throw new Error(`completed ${done.length} of ${jobs.length} held jobs`);
      }
      return claimed;
    }
    if (mode === "work") {
      for (;;) {
        const jobs = await store.jobs.claim({
          queue: "mp",
          limit: 3,
          workerId: arg ?? "child",
          leaseMs: 500,
        });
        if (jobs.length === 0) await new Promise((r) => setTimeout(r, 5));
        await store.jobs.complete(jobs.map((j) => ({ id: j.id, leaseToken: j.leaseToken, result: "true" })));
      }
    }
    if (mode === "insert") {
      const [r] = await store.jobs.insert([
        {
          kind: "child.kind",
          queue: arg ?? "default",
          payload: "{}",
          priority: 0,
          runAt: new Date(),
          maxAttempts: 1,
          uniqueKey: null,
          batchId: null,
          batchIndex: null,
        },
      ]);
      return r?.id;
    }
    throw new Error(`unknown mode ${mode}`);
  } finally {
    await store.close();
  }
}

main().then(
  async (result) => {
    await send({ done: true, result });
    process.exit(0);
  },
  async (err: unknown) => {
    await send({ done: true, error: String(err instanceof Error ? err.stack : err) }).catch(() => {});
    process.exit(1);
  },
);

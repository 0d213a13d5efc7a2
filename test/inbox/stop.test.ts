import assert from "node:assert/strict";
import { appendFile, readFile, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-stop-");
  cleanups.push(t.cleanup);
  return t.dir;
}

function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

test("stop lets an in-flight file finish (its signal stays quiet) and claims nothing more", async () => {
  const dir = await tempDir();
  const started = latch();
  const release = latch();
  let signalAbortedDuringWork: boolean | undefined;
  const running = startInbox({
    dir,
    settle: 0,
    process: async (file, ctx) => {
      started.open();
      await release.opened;
      signalAbortedDuringWork = ctx.signal.aborted;
      await ctx.writeOutput(`${file.name}.out`, "finished");
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "first.txt", "1");
  await started.opened;
  const stopped = running.stop();
  await drop(dir, "second.txt", "2");
  release.open();
  await stopped;
  assert.equal(signalAbortedDuringWork, false);
  assert.deepEqual(await list(join(dir, "done")), ["first.txt"]);
  assert.equal(await readFile(join(dir, "out", "first.txt.out"), "utf8"), "finished");
  assert.ok((await list(dir)).includes("second.txt"), "second.txt left in the inbox");
  assert.deepEqual(await list(join(dir, ".processing")), []);
});

test("when the drain budget runs out, ctx.signal aborts and the unfinished file goes back to the inbox", async () => {
  const dir = await tempDir();
  const started = latch();
  const running = startInbox({
    dir,
    settle: 0,
    drainTimeout: 50,
    process: async (_file, ctx) => {
      started.open();
      await ctx.writeOutput("half.txt", "half");
      await new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      });
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "slow.txt", "1");
  await started.opened;
  await running.stop();
  assert.ok((await list(dir)).includes("slow.txt"), "slow.txt handed back to the inbox");
  assert.deepEqual(await list(join(dir, "done")), []);
  assert.deepEqual(await list(join(dir, "failed")), [], "an interrupted file is not a failure");
  assert.deepEqual(await list(join(dir, "out")), [], "no output of the interrupted attempt");
  assert.deepEqual(await list(join(dir, ".processing")), []);
  assert.equal(running.inbox.counters.returned, 1);
});

test("a file waiting for its retry is handed back at once on stop", async () => {
  const dir = await tempDir();
  const running = startInbox({
    dir,
    settle: 0,
    retryDelay: "1h",
    process: () => {
      throw new Error("not yet");
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "later.txt", "1");
  await waitFor(() => running.inbox.counters.retried === 1, { message: "first attempt failed" });
  await running.stop();
  assert.ok((await list(dir)).includes("later.txt"));
  assert.deepEqual(await list(join(dir, "failed")), []);
});

test("an attempt that exceeds timeout fails with TEND_E_INBOX_TIMEOUT", async () => {
  const dir = await tempDir();
  const running = startInbox({
    dir,
    settle: 0,
    retries: 0,
    timeout: 30,
    process: (_file, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(new Error("gave up")), { once: true });
      }),
  });
  cleanups.push(() => running.stop());
  await drop(dir, "hang.txt", "1");
  await waitFor(async () => (await list(join(dir, "failed"))).length === 2, { message: "hang.txt failed" });
  const sidecar = JSON.parse(await readFile(join(dir, "failed", "hang.txt.error.json"), "utf8"));
  assert.equal(sidecar.error.code, "TEND_E_INBOX_TIMEOUT");
});

test("with events off the periodic rescan finds files", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, watch: false, rescan: 40, process: () => {} });
  cleanups.push(() => running.stop());
  await waitFor(async () => (await list(join(dir, ".processing"))).length === 1, {
    message: "inbox started",
  });
  await drop(dir, "quiet.txt", "1");
  await waitFor(async () => (await list(join(dir, "done"))).includes("quiet.txt"), {
    message: "quiet.txt done",
  });
});

test("files present before start are claimed by the start scan (settled by their old mtime)", async () => {
  const dir = await tempDir();
  const old = new Date(Date.now() - 60_000);
  for (let i = 0; i < 20; i++) {
    await drop(dir, `old-${i}.txt`, String(i));
    await utimes(join(dir, `old-${i}.txt`), old, old);
  }
  const running = startInbox({
    dir,
    settle: "10s",
    watch: false,
    rescan: "1h",
    concurrency: 3,
    process: () => {},
  });
  cleanups.push(() => running.stop());
  await waitFor(() => running.inbox.counters.done === 20, { message: "20 done" });
  assert.equal((await list(join(dir, "done"))).length, 20);
});

test("a file written to after it settled, before its claim, is handed back to settle again", async () => {
  const dir = await tempDir();
  const releaseA = latch();
  const startedA = latch();
  const seen: { name: string; at: number; content: string }[] = [];
  const running = startInbox({
    dir,
    settle: 300,
    concurrency: 1,
    process: async (file) => {
      if (file.name === "a.txt") {
        startedA.open();
        await releaseA.opened;
      }
      seen.push({ name: file.name, at: Date.now(), content: await readFile(file.path, "utf8") });
    },
  });
  cleanups.push(() => running.stop());
  const old = new Date(Date.now() - 60_000);
  await drop(dir, "a.txt", "a");
  await utimes(join(dir, "a.txt"), old, old);
  await startedA.opened; // the only slot is busy from now on
  await drop(dir, "b.txt", "part 1;");
  await utimes(join(dir, "b.txt"), old, old); // looks long settled: ready, waiting for the slot
  await waitFor(() => running.inbox.counters.backlog === 1, { message: "b.txt ready to claim" });
  await appendFile(join(dir, "b.txt"), " part 2");
  // The settle time counts from the write (the file's mtime), not from when this test resumed.
  const appendedAt = (await stat(join(dir, "b.txt"))).mtimeMs;
  releaseA.open();
  await waitFor(() => running.inbox.counters.done === 2, { message: "a and b done" });
  const b = seen.find((s) => s.name === "b.txt");
  assert.equal(b?.content, "part 1; part 2");
  assert.ok(
    (b?.at ?? 0) - appendedAt >= 250,
    `b.txt waited its settle time after the last write (${(b?.at ?? 0) - appendedAt} ms)`,
  );
  assert.equal(seen.filter((s) => s.name === "b.txt").length, 1);
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { link, lstat, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { moveToFreeName } from "../../src/inbox/folders.ts";
import { formatOwner, newOwner, readProcessStart } from "../../src/inbox/owner.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-recovery-");
  cleanups.push(t.cleanup);
  return t.dir;
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid ?? 999_999;
}

test("files and partial outputs of a dead owner are recovered; a rerun overwrites its outputs cleanly", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const dead = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0000" });
  await mkdir(join(dir, ".processing", dead), { recursive: true });
  await mkdir(join(dir, "out"));
  await writeFile(join(dir, ".processing", dead, "r.txt"), "new");
  // The dead process had committed r.txt's output (from this very input) but died before moving it to done/,
  // and had half-written another output.
  await writeFile(join(dir, "out", "r.txt.out"), "old");
  await writeFile(join(dir, "out", `.tend~${dead}~7.tmp`), "half");
  const recovered: boolean[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    process: async (file, ctx) => {
      recovered.push(file.recovered);
      await ctx.writeOutput(`${file.name}.out`, await readFile(file.path));
    },
  });
  cleanups.push(() => running.stop());
  await waitFor(async () => (await list(join(dir, "done"))).includes("r.txt"), { message: "r.txt done" });
  assert.deepEqual(recovered, [true]);
  assert.deepEqual(await list(join(dir, "out")), ["r.txt.out"], "partial output removed");
  assert.equal(await readFile(join(dir, "out", "r.txt.out"), "utf8"), "new");
  assert.equal(running.inbox.counters.recovered, 1);
  assert.equal((await list(join(dir, ".processing"))).length, 1, "only the live claim folder remains");
});

test("the claim folder of a live process is left alone", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const live = formatOwner({
    ...me,
    pid: process.ppid,
    start: readProcessStart(process.ppid) ?? "x",
    token: "live0000",
  });
  await mkdir(join(dir, ".processing", live), { recursive: true });
  await writeFile(join(dir, ".processing", live, "theirs.txt"), "busy elsewhere");
  const processed: string[] = [];
  const running = startInbox({ dir, settle: 0, process: (file) => void processed.push(file.name) });
  cleanups.push(() => running.stop());
  await drop(dir, "mine.txt", "x");
  await waitFor(() => processed.includes("mine.txt"), { message: "mine.txt processed" });
  await running.stop();
  assert.deepEqual(processed, ["mine.txt"]);
  assert.deepEqual(await list(join(dir, ".processing", live)), ["theirs.txt"]);
});

test("two inboxes on one folder in one process share the work without overlap or theft", async () => {
  const dir = await tempDir();
  const counts = new Map<string, number>();
  const by = new Map<string, number>();
  const make = (label: string) =>
    startInbox({
      dir,
      settle: 0,
      concurrency: 2,
      rescan: 20, // frequent recovery passes: neither may take the other's live claims
      process: async (file) => {
        counts.set(file.name, (counts.get(file.name) ?? 0) + 1);
        by.set(label, (by.get(label) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
      },
    });
  const a = make("a");
  const b = make("b");
  cleanups.push(
    () => a.stop(),
    () => b.stop(),
  );
  await waitFor(async () => (await list(join(dir, ".processing"))).length === 2, { message: "both started" });
  for (let i = 0; i < 200; i++) await drop(dir, `n${i}.txt`, String(i));
  await waitFor(() => a.inbox.counters.done + b.inbox.counters.done === 200, { message: "200 done" });
  assert.equal(counts.size, 200);
  assert.deepEqual(
    [...counts.values()].filter((n) => n !== 1),
    [],
  );
  assert.equal(a.inbox.counters.recovered + b.inbox.counters.recovered, 0);
  assert.ok((by.get("a") ?? 0) > 0 && (by.get("b") ?? 0) > 0, "both inboxes took part");
});

test("a second file of the same name gets a free name in done/", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, process: () => {} });
  cleanups.push(() => running.stop());
  await drop(dir, "same.csv", "first");
  await waitFor(() => running.inbox.counters.done === 1);
  await drop(dir, "same.csv", "second");
  await waitFor(() => running.inbox.counters.done === 2);
  assert.deepEqual(await list(join(dir, "done")), ["same.csv", "same~1.csv"]);
  assert.equal(await readFile(join(dir, "done", "same.csv"), "utf8"), "first");
  assert.equal(await readFile(join(dir, "done", "same~1.csv"), "utf8"), "second");
});

test("an unfinished file never overwrites a newer file of the same name; the next start recovers it", async () => {
  const dir = await tempDir();
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  const first = startInbox({
    dir,
    settle: 0,
    drainTimeout: 20,
    process: (_file, ctx) =>
      new Promise((_resolve, reject) => {
        started();
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
      }),
  });
  cleanups.push(() => first.stop());
  await drop(dir, "dup.txt", "old");
  await startedP;
  await drop(dir, "dup.txt", "new"); // same name arrives while the first is in flight: left waiting
  await first.stop();
  assert.equal(await readFile(join(dir, "dup.txt"), "utf8"), "new", "the newer file is intact");
  const [claimFolder] = await list(join(dir, ".processing"));
  assert.deepEqual(await list(join(dir, ".processing", claimFolder ?? "")), ["dup.txt"]);
  const seen: string[] = [];
  const second = startInbox({
    dir,
    settle: 0,
    process: async (file) => void seen.push(await readFile(file.path, "utf8")),
  });
  cleanups.push(() => second.stop());
  await waitFor(() => second.inbox.counters.done === 2, { message: "both dup.txt done" });
  assert.deepEqual(seen.sort(), ["new", "old"]);
  assert.deepEqual(await list(join(dir, "done")), ["dup.txt", "dup~1.txt"]);
});

test("two files of one name moved into done/ at the same moment both keep their own name there", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, "a"));
  await mkdir(join(dir, "b"));
  await mkdir(join(dir, "done"));
  await writeFile(join(dir, "a", "same.csv"), "from a");
  await writeFile(join(dir, "b", "same.csv"), "from b");
  // Two inboxes finishing same-named files together: each checks the name, then moves.
  const names = await Promise.all([
    moveToFreeName(join(dir, "a", "same.csv"), join(dir, "done"), "same.csv"),
    moveToFreeName(join(dir, "b", "same.csv"), join(dir, "done"), "same.csv"),
  ]);
  assert.deepEqual([...names].sort(), ["same.csv", "same~1.csv"]);
  assert.deepEqual(await list(join(dir, "done")), ["same.csv", "same~1.csv"]);
  const contents = await Promise.all(names.map((n) => readFile(join(dir, "done", n), "utf8")));
  assert.deepEqual(contents, ["from a", "from b"]);
  assert.deepEqual([await list(join(dir, "a")), await list(join(dir, "b"))], [[], []]);
});

test("a dead owner's file whose move was cut between link and unlink is not processed again", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const dead = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0000" });
  const live = formatOwner({
    ...me,
    pid: process.ppid,
    start: readProcessStart(process.ppid) ?? "x",
    token: "live0000",
  });
  for (const folder of [join(".processing", dead), join(".processing", live), "done", "failed"])
    await mkdir(join(dir, folder), { recursive: true });
  // Each of the dead owner's claimed files was linked to where its move was taking it, then the
  // process died before unlinking its claimed copy.
  const cases: [name: string, there: string][] = [
    ["finished.txt", join("done", "finished~1.txt")], // done/finished.txt is another file
    ["failed.txt", join("failed", "failed.txt")],
    ["handed.txt", "handed.txt"], // handed back to the inbox, not claimed since
    ["taken.txt", join(".processing", live, "taken.txt")], // handed back, then claimed by a live inbox
  ];
  await writeFile(join(dir, "done", "finished.txt"), "an earlier file");
  for (const [name, there] of cases) {
    await writeFile(join(dir, ".processing", dead, name), name);
    await link(join(dir, ".processing", dead, name), join(dir, there));
  }
  // A file with a second name that is none of these (a producer kept a hard link of its own).
  const producer = await tempDir();
  await writeFile(join(producer, "kept.txt"), "mine");
  await link(join(producer, "kept.txt"), join(dir, ".processing", dead, "linked.txt"));
  const processed: string[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    rescan: 20,
    process: (file) => void processed.push(`${file.name}${file.recovered ? " (recovered)" : ""}`),
  });
  cleanups.push(() => running.stop());
  await waitFor(async () => !(await list(join(dir, ".processing"))).includes(dead), {
    message: "the dead claim folder recovered and removed",
  });
  await waitFor(() => running.inbox.counters.done === 2, { message: "handed.txt and linked.txt done" });
  await running.stop();
  assert.deepEqual(processed.sort(), ["handed.txt", "linked.txt (recovered)"]);
  assert.deepEqual(await list(join(dir, "done")), [
    "finished.txt",
    "finished~1.txt",
    "handed.txt",
    "linked.txt",
  ]);
  assert.deepEqual(await list(join(dir, "failed")), ["failed.txt"]);
  assert.deepEqual(await list(join(dir, ".processing", live)), ["taken.txt"]);
});

test("a sidecar left by a crash between a failure's two steps is rewritten, or removed once its file is done", async () => {
  const dir = await tempDir();
  const me = newOwner();
  const dead = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0000" });
  await mkdir(join(dir, ".processing", dead), { recursive: true });
  await mkdir(join(dir, "failed"));
  // The dead process wrote each file's sidecar, then died before moving the file to failed/.
  for (const name of ["bad.txt", "good.txt"]) {
    await writeFile(join(dir, ".processing", dead, name), name);
    const st = await lstat(join(dir, ".processing", dead, name));
    const record = {
      name,
      failedAs: name,
      error: { name: "Error", message: "earlier" },
      file: `${st.dev}:${st.ino}`,
    };
    await writeFile(join(dir, "failed", `${name}.error.json`), JSON.stringify(record));
  }
  // Another file's sidecar without its file (another inbox between the two steps): not touched.
  await writeFile(
    join(dir, "failed", "good~1.txt.error.json"),
    JSON.stringify({ name: "good.txt", file: "1:2" }),
  );
  const running = startInbox({
    dir,
    settle: 0,
    retries: 0,
    process: (file) => {
      if (file.name === "bad.txt") throw new Error("bad again");
    },
  });
  cleanups.push(() => running.stop());
  await waitFor(() => running.inbox.counters.done + running.inbox.counters.failed === 2, {
    message: "both ended",
  });
  await running.stop();
  assert.deepEqual(await list(join(dir, "failed")), [
    "bad.txt",
    "bad.txt.error.json",
    "good~1.txt.error.json",
  ]);
  const record = JSON.parse(await readFile(join(dir, "failed", "bad.txt.error.json"), "utf8")) as {
    error: { message: string };
  };
  assert.equal(record.error.message, "bad again");
  assert.deepEqual(await list(join(dir, "done")), ["good.txt"]);
});

test("a claim folder deleted under a running inbox is recreated and claiming goes on", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, process: () => {} });
  cleanups.push(() => running.stop());
  await waitFor(async () => (await list(join(dir, ".processing"))).length === 1, { message: "claim folder" });
  const [claimFolder] = await list(join(dir, ".processing"));
  await rm(join(dir, ".processing", claimFolder ?? ""), { recursive: true });
  await drop(dir, "after.txt", "x");
  await waitFor(async () => (await list(join(dir, "done"))).includes("after.txt"), {
    message: "after.txt done",
  });
  assert.deepEqual(await list(join(dir, ".processing")), [claimFolder]);
});

test("a clean stop hands back the files of an owner that died since the last rescan, and leaves no dead claim folder", async () => {
  const dir = await tempDir();
  const processed: string[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    // No rescan during the test: only the start and the stop look for dead owners.
    rescan: 600_000,
    process: async (file) => {
      processed.push(file.name);
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "a.txt", "a");
  await waitFor(async () => (await list(join(dir, "done"))).includes("a.txt"), { message: "a.txt done" });
  // Two processes die after this inbox's start: one holding a file, one holding nothing.
  const me = newOwner();
  const holding = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0001" });
  const empty = formatOwner({ ...me, pid: deadPid(), start: "1", token: "dead0002" });
  await mkdir(join(dir, ".processing", holding), { recursive: true });
  await mkdir(join(dir, ".processing", empty), { recursive: true });
  await writeFile(join(dir, ".processing", holding, "late.txt"), "late");
  await running.stop();
  assert.deepEqual(await list(join(dir, ".processing")), [], "no claim folder left, dead or own");
  assert.equal(
    await readFile(join(dir, "late.txt"), "utf8"),
    "late",
    "the dead owner's file is back in the inbox",
  );
  assert.deepEqual(processed, ["a.txt"], "nothing processed while stopping");
});

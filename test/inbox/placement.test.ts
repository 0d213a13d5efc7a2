/**
 * Final placement of same-named files: two inboxes (as two `importer@` instances would be) ending
 * files of one name at the same moment each keep their file, in done/ or in failed/ beside its own
 * sidecar, also where hard links are refused (inboxes running as another user than the producers',
 * `fs.protected_hardlinks`); and placeholders a crash left behind are cleaned up by recovery.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, chown, lstat, mkdir, readFile, readlink, rename, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileIdentity } from "../../src/inbox/identity.ts";
import { formatOwner, newOwner } from "../../src/inbox/owner.ts";
import { placeholderTarget } from "../../src/inbox/placeholder.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { killChild, spawnFixture } from "./fixtures/spawn.ts";
import { list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-placement-");
  cleanups.push(t.cleanup);
  return t.dir;
}

interface User {
  uid: number;
  gid: number;
}

function userIds(name: string): User | undefined {
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

/** The users `daemon` (the inboxes) and `nobody` (the producer), when this run can act as them. */
async function usersOrWhyNot(): Promise<{ service: User; producer: User } | string> {
  if (process.getuid?.() !== 0) return "needs root, to run the inboxes and the producer as other users";
  const hardlinks = await readFile("/proc/sys/fs/protected_hardlinks", "utf8").catch(() => "");
  if (hardlinks.trim() !== "1") return "needs fs.protected_hardlinks=1";
  const service = userIds("daemon");
  const producer = userIds("nobody");
  if (service === undefined || producer === undefined) return "needs the users daemon and nobody";
  return { service, producer };
}

/** The record in a sidecar, as far as these tests look at it. */
interface Sidecar {
  name: string;
  failedAs: string;
  file: string;
  error: { message: string };
}

/**
 * Checks that failed/ holds exactly the files with `contents`, each beside its own sidecar: the
 * sidecar's `failedAs`, `file` (identity) and error ("failing <content>") are those of the file
 * beside it.
 */
async function assertEachBesideItsSidecar(
  failedDir: string,
  name: string,
  contents: string[],
): Promise<void> {
  const entries = await list(failedDir);
  const inputs = entries.filter((e) => !e.endsWith(".error.json"));
  assert.deepEqual(
    entries,
    inputs.flatMap((i) => [i, `${i}.error.json`]).sort(),
    "each input has a sidecar, no sidecar is alone",
  );
  const seen: string[] = [];
  for (const input of inputs) {
    const content = (await readFile(join(failedDir, input), "utf8")).trim();
    const record = JSON.parse(await readFile(join(failedDir, `${input}.error.json`), "utf8")) as Sidecar;
    assert.equal(record.name, name);
    assert.equal(record.failedAs, input, `the sidecar of ${input} names it`);
    assert.equal(
      record.file,
      fileIdentity(await lstat(join(failedDir, input))),
      `the sidecar of ${input} is its own`,
    );
    assert.equal(record.error.message, `failing ${content}`, `the sidecar of ${input} has its error`);
    seen.push(content);
  }
  assert.deepEqual(seen.sort(), [...contents].sort(), "no input lost");
}

/**
 * Runs the same-name fixture (two inboxes in one process) as `service`, drops two files named
 * x.csv owned by `producer` (the second once the first is being processed), and waits until both
 * ended. Returns the inbox folder, or a reason to skip when hard links turn out not to be refused.
 */
async function finishTwoSameNamed(mode: "done" | "failed", service: User, producer: User): Promise<string> {
  const root = await tempDir();
  await chmod(root, 0o755);
  const dir = join(root, "inbox");
  const probeDir = join(root, "probe");
  for (const d of [dir, probeDir]) {
    await mkdir(d);
    await chown(d, service.uid, service.gid);
  }
  await writeFile(join(probeDir, "file"), "probe");
  await chown(join(probeDir, "file"), producer.uid, producer.gid);
  const child = spawnFixture(
    "same-name.ts",
    { INBOX_DIR: dir, MODE: mode, PROBE: join(probeDir, "file"), TEND_LOG_LEVEL: "warn" },
    undefined,
    service,
  );
  cleanups.push(() => killChild(child));
  const probe = await child.waitForLine("probe");
  assert.equal(probe["code"], "EPERM", "a hard link to the producer's file is refused to the inboxes' user");
  await child.waitForLine("running");
  const dropAsProducer = async (content: string) => {
    const temp = join(dir, ".x.csv.tmp");
    await writeFile(temp, `${content}\n`);
    await chown(temp, producer.uid, producer.gid);
    await rename(temp, join(dir, "x.csv"));
  };
  await dropAsProducer("first");
  await child.waitForLine("processing");
  await dropAsProducer("second");
  await child.waitForLine("ended", 30_000);
  assert.equal(await child.exited, 0);
  return dir;
}

test("two inboxes whose hard links are refused finish same-named files at the same moment: done/ keeps both", async (t) => {
  const users = await usersOrWhyNot();
  if (typeof users === "string") return t.skip(users);
  const dir = await finishTwoSameNamed("done", users.service, users.producer);
  assert.deepEqual(await list(join(dir, "done")), ["x.csv", "x~1.csv"]);
  const contents = await Promise.all(["x.csv", "x~1.csv"].map((n) => readFile(join(dir, "done", n), "utf8")));
  assert.deepEqual(contents.sort(), ["first\n", "second\n"]);
  for (const n of ["x.csv", "x~1.csv"]) {
    const st = await lstat(join(dir, "done", n));
    assert.ok(st.isFile() && st.uid === users.producer.uid, `${n} is the producer's file itself`);
  }
  assert.deepEqual(await list(dir), [".processing", "done", "failed", "out"]);
});

test("two inboxes whose hard links are refused fail same-named files at the same moment: each beside its own sidecar", async (t) => {
  const users = await usersOrWhyNot();
  if (typeof users === "string") return t.skip(users);
  const dir = await finishTwoSameNamed("failed", users.service, users.producer);
  await assertEachBesideItsSidecar(join(dir, "failed"), "x.csv", ["first", "second"]);
  assert.deepEqual(await list(dir), [".processing", "done", "failed", "out"]);
});

test("two inboxes failing same-named files at the same moment: each file in failed/ beside its own sidecar", async () => {
  const dir = await tempDir();
  let release!: () => void;
  const bothProcessing = new Promise<void>((resolve) => (release = resolve));
  let firstStarted!: () => void;
  const oneProcessing = new Promise<void>((resolve) => (firstStarted = resolve));
  let processing = 0;
  const start = () =>
    startInbox({
      dir,
      settle: 0,
      retries: 0,
      process: async (file) => {
        const content = (await readFile(file.path, "utf8")).trim();
        if (++processing === 1) firstStarted();
        if (processing === 2) release();
        await bothProcessing;
        throw new Error(`failing ${content}`);
      },
    });
  const inboxes = [start(), start()];
  for (const i of inboxes) cleanups.push(() => i.stop());
  const dropX = async (content: string) => {
    await writeFile(join(dir, ".x.tmp"), `${content}\n`);
    await rename(join(dir, ".x.tmp"), join(dir, "x.csv"));
  };
  await dropX("first");
  await oneProcessing;
  await dropX("second");
  await waitFor(() => inboxes.reduce((n, i) => n + i.inbox.counters.failed, 0) === 2, {
    message: "both failed",
  });
  for (const i of inboxes) await i.stop();
  await assertEachBesideItsSidecar(join(dir, "failed"), "x.csv", ["first", "second"]);
});

/** A claim folder of a process that is gone, holding `files` (name: content); returns it. */
async function deadClaimFolder(dir: string, files: Record<string, string>): Promise<string> {
  const gone = spawnSync(process.execPath, ["-e", ""]).pid ?? 999_999;
  const folder = join(
    dir,
    ".processing",
    formatOwner({ ...newOwner(), pid: gone, start: "1", token: "dead0000" }),
  );
  await mkdir(folder, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(folder, name), content);
  return folder;
}

test("placeholders a crash left between taking a name and the rename onto it are removed when the file is recovered", async () => {
  const dir = await tempDir();
  for (const f of ["done", "failed"]) await mkdir(join(dir, f));
  // A dead process had taken each file's name with a placeholder and died before the rename.
  const dead = await deadClaimFolder(dir, { "ok.csv": "ok", "bad.csv": "bad", "back.csv": "back" });
  const id = async (name: string) => fileIdentity(await lstat(join(dead, name)));
  await writeFile(join(dir, "done", "ok.csv"), "an earlier ok.csv");
  await symlink(placeholderTarget(await id("ok.csv")), join(dir, "done", "ok~1.csv"));
  // bad.csv was failing: its sidecar took the name, then its placeholder.
  await writeFile(
    join(dir, "failed", "bad.csv.error.json"),
    JSON.stringify({
      name: "bad.csv",
      failedAs: "bad.csv",
      file: await id("bad.csv"),
      error: { message: "x" },
    }),
  );
  await symlink(placeholderTarget(await id("bad.csv")), join(dir, "failed", "bad.csv"));
  // back.csv was being handed back to the inbox.
  await symlink(placeholderTarget(await id("back.csv")), join(dir, "back.csv"));
  // Another inbox's placeholder, with its move under way: left alone, and never claimed.
  await symlink(placeholderTarget("1:2"), join(dir, "other.csv"));
  const processed: string[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    retries: 0,
    rescan: 20,
    process: async (file) => {
      const content = await readFile(file.path, "utf8");
      processed.push(`${file.name}${file.recovered ? " (recovered)" : ""}`);
      if (content === "bad") throw new Error("failing bad");
    },
  });
  cleanups.push(() => running.stop());
  await waitFor(() => running.inbox.counters.done + running.inbox.counters.failed === 3, {
    message: "all ended",
  });
  await running.stop();
  assert.deepEqual(processed.sort(), ["back.csv (recovered)", "bad.csv (recovered)", "ok.csv (recovered)"]);
  assert.deepEqual(await list(join(dir, "done")), ["back.csv", "ok.csv", "ok~1.csv"]);
  assert.equal(await readFile(join(dir, "done", "ok~1.csv"), "utf8"), "ok");
  assert.equal(await readFile(join(dir, "done", "back.csv"), "utf8"), "back");
  assert.deepEqual(await list(join(dir, "failed")), ["bad.csv", "bad.csv.error.json"]);
  const record = JSON.parse(await readFile(join(dir, "failed", "bad.csv.error.json"), "utf8")) as Sidecar;
  assert.equal(record.error.message, "failing bad");
  assert.equal(record.file, fileIdentity(await lstat(join(dir, "failed", "bad.csv"))));
  assert.deepEqual(await list(dir), [".processing", "done", "failed", "other.csv", "out"]);
  assert.equal(await readlink(join(dir, "other.csv")), placeholderTarget("1:2"));
});

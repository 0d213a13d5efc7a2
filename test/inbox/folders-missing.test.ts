import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { type Child, killChild, spawnFixture } from "./fixtures/spawn.ts";
import { drop, list } from "./helpers.ts";

/*
 * Folders deleted under a running inbox (a real child process running the inbox under main()):
 * what can be recreated is, processing resumes, warnings stay few, and what cannot be recreated
 * fails the task with TEND_E_INBOX_FOLDER_GONE so that the program exits non-zero.
 */

const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of children) await killChild(c);
  for (const c of cleanups.reverse()) await c();
});

async function setup(env: Record<string, string> = {}) {
  const t = await makeTempDir("tend-inbox-folders-");
  cleanups.push(t.cleanup);
  const dir = join(t.dir, "inbox");
  const outDir = join(t.dir, "out");
  const markerLog = join(t.dir, "markers.log");
  await mkdir(dir);
  await writeFile(markerLog, "");
  const child = spawnFixture("worker.ts", {
    INBOX_DIR: dir,
    OUT_DIR: outDir,
    MARKER_LOG: markerLog,
    CONCURRENCY: "1",
    ...env,
  });
  children.push(child);
  await child.waitForLine("inbox started");
  return { dir, outDir, child };
}

/** Log lines at warn level or above. */
function warnings(child: Child): Record<string, unknown>[] {
  return child.lines.filter((l) => typeof l["level"] === "number" && l["level"] >= 40);
}

async function processed(dir: string, name: string): Promise<void> {
  await waitFor(async () => (await list(join(dir, "done"))).includes(name), {
    timeoutMs: 10_000,
    message: `${name} in done/`,
  });
}

test("the processing folder removed while running: recreated, the next file is processed, few warnings", async () => {
  const { dir, child } = await setup();
  await drop(dir, "a.txt", "a");
  await processed(dir, "a.txt");
  await rm(join(dir, ".processing"), { recursive: true, force: true });
  await drop(dir, "b.txt", "b");
  await processed(dir, "b.txt");
  const warned = warnings(child);
  assert.ok(
    warned.length <= 3,
    `at most 3 warnings, got ${warned.length}: ${JSON.stringify(warned.slice(0, 5))}`,
  );
  assert.ok(
    warned.some((l) => /recreated/.test(String(l["msg"]))),
    "a warning says the folders were recreated",
  );
  assert.equal(child.proc.exitCode, null, "still running");
});

test("the whole inbox folder removed and created again: processing resumes", async () => {
  const { dir, child } = await setup();
  await drop(dir, "a.txt", "a");
  await processed(dir, "a.txt");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await drop(dir, "c.txt", "c");
  await processed(dir, "c.txt");
  const warned = warnings(child);
  assert.ok(
    warned.length <= 4,
    `at most 4 warnings, got ${warned.length}: ${JSON.stringify(warned.slice(0, 5))}`,
  );
  assert.equal(child.proc.exitCode, null, "still running");
});

test("a folder that cannot be recreated fails the task with TEND_E_INBOX_FOLDER_GONE and the program exits 1", async () => {
  const { dir, child } = await setup({ FOLDER_TIMEOUT_MS: "1500" });
  await drop(dir, "a.txt", "a");
  await processed(dir, "a.txt");
  // A file where the inbox folder was: nothing can be created inside it.
  await rm(dir, { recursive: true, force: true });
  await writeFile(dir, "not a folder");
  const removedAt = Date.now();
  const code = await Promise.race([
    child.exited,
    new Promise((resolve) => setTimeout(resolve, 10_000, "still running after 10 s")),
  ]);
  assert.equal(code, 1);
  const took = Date.now() - removedAt;
  assert.ok(took < 6_000, `gave up after ${took} ms (folderTimeout 1.5 s)`);
  const gone = child.lines.find((l) => JSON.stringify(l).includes("TEND_E_INBOX_FOLDER_GONE"));
  assert.ok(gone, "a log line carries TEND_E_INBOX_FOLDER_GONE");
  const warned = warnings(child);
  assert.ok(warned.length <= 15, `log lines bounded: ${warned.length} warnings and errors`);
});

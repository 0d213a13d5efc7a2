import assert from "node:assert/strict";
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { createInbox } from "../../src/inbox/index.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const tmp = await makeTempDir("tend-inbox-unusual-");
after(() => tmp.cleanup());
let n = 0;
const folder = (): string => join(tmp.dir, `in-${++n}`);

test("a thrown value that neither JSON nor String can show still fails its file into failed/", async () => {
  const dir = folder();
  const running = startInbox({
    dir,
    settle: 0,
    retries: 0,
    process: async () => {
      // A null-prototype object with a cycle: JSON.stringify and String both throw on it.
      const err = Object.create(null) as Record<string, unknown>;
      err["code"] = "E_PARSE";
      err["self"] = err;
      throw err;
    },
  });
  try {
    await drop(dir, "orders.csv", "a,b\n");
    await waitFor(async () => (await list(join(dir, "failed"))).length === 2, {
      message: "orders.csv and its sidecar in failed/",
    });
    const sidecar = JSON.parse(await readFile(join(dir, "failed", "orders.csv.error.json"), "utf8")) as {
      error: { name: string; message: string };
    };
    assert.equal(sidecar.error.name, "NonError");
    assert.equal(typeof sidecar.error.message, "string");
    assert.equal(running.inbox.counters.failed, 1);
  } finally {
    await running.stop();
  }
  assert.deepEqual(await list(join(dir, ".processing")), [], "no claim folder left behind");
});

test("a claimed file deleted while it is processed is reported gone, not left to a recovery", async () => {
  const dir = folder();
  const capture = captureLog();
  const inbox = createInbox(
    {
      dir,
      settle: 0,
      retries: 0,
      process: async (file) => {
        await unlink(file.path);
        throw new Error("the file went away under its handler");
      },
    },
    { log: capture.log },
  );
  const controller = new AbortController();
  const finished = inbox.run(controller.signal);
  try {
    await drop(dir, "gone.csv", "x\n");
    await waitFor(
      () =>
        capture
          .lines()
          .some((l) => String(l["msg"]).startsWith("the claimed file vanished from the claim folder")),
      { message: "the vanished file's log line" },
    );
    assert.ok(
      !capture.lines().some((l) => String(l["msg"]).includes("is recovered at the next start")),
      "no promise of a recovery for a file that is gone",
    );
  } finally {
    controller.abort();
    await finished;
  }
  assert.deepEqual(await list(join(dir, ".processing")), [], "no claim folder left behind");
});

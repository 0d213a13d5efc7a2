import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isTendError } from "../../src/errors/index.ts";
import { isFailedInput, listFailedFiles, retryFailedFile } from "../../src/inbox/failed-files.ts";
import { resolveInboxOptions } from "../../src/inbox/options.ts";
import { makeTempDir } from "../support/tmp.ts";

describe("failed inbox files", () => {
  it("lists failed files with their sidecar's error and retries one back into the inbox, never replacing a file", async (t) => {
    const tmp = await makeTempDir("tend-failed-");
    t.after(tmp.cleanup);
    const o = resolveInboxOptions({ dir: join(tmp.dir, "in"), process: async () => {} });
    await mkdir(o.failedDir, { recursive: true });
    await writeFile(join(o.failedDir, "orders~1.csv"), "a,b\n1\n");
    await writeFile(
      join(o.failedDir, "orders~1.csv.error.json"),
      JSON.stringify({
        name: "orders.csv",
        failedAs: "orders~1.csv",
        error: { name: "Error", message: "bad row 3" },
        attempts: 3,
        failedAt: "2026-01-01T10:00:03.100Z",
      }),
    );
    await writeFile(join(o.failedDir, "loose.txt"), "no sidecar");
    await writeFile(join(o.failedDir, ".tend-sidecar~1.tmp"), "");

    const listed = await listFailedFiles(o, 10);
    assert.deepEqual(listed.map((f) => [f.name, f.originalName, f.error, f.attempts]).sort(), [
      ["loose.txt", "loose.txt", null, null],
      ["orders~1.csv", "orders.csv", "bad row 3", 3],
    ]);
    assert.equal((await listFailedFiles(o, 1)).length, 1);

    // A file of the original name already waits: nothing is replaced.
    await writeFile(join(o.dir, "orders.csv"), "newer");
    await assert.rejects(retryFailedFile(o, "orders~1.csv"), (err) =>
      isTendError(err, "TEND_E_INBOX_RETRY_CONFLICT"),
    );
    assert.equal(await readFile(join(o.dir, "orders.csv"), "utf8"), "newer");
    assert.ok(existsSync(join(o.failedDir, "orders~1.csv")));

    await unlink(join(o.dir, "orders.csv"));
    assert.equal(await retryFailedFile(o, "orders~1.csv"), "orders.csv");
    assert.equal(await readFile(join(o.dir, "orders.csv"), "utf8"), "a,b\n1\n");
    assert.equal(existsSync(join(o.failedDir, "orders~1.csv.error.json")), false);

    for (const bad of ["orders~1.csv", "../in/x", "loose.txt.error.json", ".hidden", ""])
      await assert.rejects(
        retryFailedFile(o, bad),
        (err) => isTendError(err, "TEND_E_INBOX_FAILED_FILE_NOT_FOUND"),
        bad,
      );
    assert.equal(isFailedInput("a.csv"), true);
    assert.equal(isFailedInput("a.csv.error.json"), false);
  });
});

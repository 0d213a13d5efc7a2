import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isTendError } from "../../src/errors/tend-error.ts";
import { createInbox } from "../../src/inbox/index.ts";
import { createLogger } from "../../src/log/logger.ts";
import { captureLog } from "../lifecycle/log-capture.ts";
import { makeTempDir } from "../support/tmp.ts";
import { waitFor } from "../support/wait.ts";
import { drop, list, startInbox } from "./helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const t = await makeTempDir("tend-inbox-safety-");
  cleanups.push(t.cleanup);
  return t.dir;
}

test("hostile names are data: nothing is written outside the inbox folders", async () => {
  const root = await tempDir();
  const dir = join(root, "inbox");
  const outDir = join(root, "out");
  const longName = `${"x".repeat(250)}.txt`; // 254 bytes: legal, but "<name>.out" is not
  const fine = ["a..b.txt", "etc%2Fpasswd", "~root", "-rf", " spaced ", "名前.csv", longName];
  const refusedOutput = ["line\nbreak.txt", "tab\there", "\u001b[31mred", "a\\..\\..\\b", "nul\u007fdel"];
  const ignored = ["..evil", "..\\..\\etc\\passwd", "...", ".%2e%2e"];
  const seen: string[] = [];
  const running = startInbox({
    dir,
    outDir,
    settle: 0,
    retries: 0,
    concurrency: 2,
    process: async (file, ctx) => {
      seen.push(file.name);
      assert.equal(await readFile(file.path, "utf8"), `content of ${JSON.stringify(file.name)}`);
      // A careless process() deriving an output name from the input name: tend must refuse the bad ones.
      await ctx.writeOutput(`${file.name}.out`, "ok");
    },
  });
  cleanups.push(() => running.stop());
  await mkdir(dir, { recursive: true });
  for (const name of [...fine, ...refusedOutput, ...ignored])
    await drop(dir, name, `content of ${JSON.stringify(name)}`);
  const total = fine.length + refusedOutput.length;
  await waitFor(() => running.inbox.counters.done + running.inbox.counters.failed === total, {
    message: `${total} hostile files finished`,
  });
  await running.stop();
  assert.deepEqual(seen.sort(), [...fine, ...refusedOutput].sort());
  assert.deepEqual(await list(root), ["inbox", "out"], "nothing created beside the folders");
  assert.deepEqual((await list(join(dir, "done"))).sort(), fine.filter((n) => n !== longName).sort());
  const failed = await list(join(dir, "failed"));
  for (const name of [...refusedOutput, longName]) {
    assert.ok(failed.includes(name), `${JSON.stringify(name)} in failed/`);
  }
  const sidecars = failed.filter((n) => n.endsWith(".error.json"));
  assert.equal(sidecars.length, refusedOutput.length + 1);
  for (const sidecarName of sidecars) {
    assert.ok(Buffer.byteLength(sidecarName) <= 255);
    const sidecar = JSON.parse(await readFile(join(dir, "failed", sidecarName), "utf8"));
    assert.equal(sidecar.error.code, "TEND_E_INBOX_OUTPUT_NAME");
    assert.ok(failed.includes(sidecar.failedAs));
  }
  assert.deepEqual(
    await list(outDir),
    fine
      .filter((n) => n !== longName)
      .map((n) => `${n}.out`)
      .sort(),
  );
  assert.deepEqual(
    (await list(dir)).filter((n) => ![".processing", "done", "failed"].includes(n)).sort(),
    [...ignored].sort(),
    "dot names stay untouched",
  );
});

test("writeOutput refuses paths and odd names with TEND_E_INBOX_OUTPUT_NAME", async () => {
  const dir = await tempDir();
  const bad = [
    "../escape",
    "a/b",
    "/etc/passwd",
    "",
    ".",
    "..",
    ".hidden",
    "a\u0000b",
    "a\nb",
    "c\\d",
    "y".repeat(256),
  ];
  const codes: unknown[] = [];
  const running = startInbox({
    dir,
    settle: 0,
    process: async (_file, ctx) => {
      for (const name of bad) {
        await ctx.writeOutput(name, "x").then(
          () => codes.push("accepted"),
          (err: unknown) => codes.push(isTendError(err) ? err.code : err),
        );
      }
      // A deliberately wrong type, as untyped JavaScript could pass.
      await ctx
        .writeOutput("fine.txt", 42 as unknown as string)
        .catch((err: unknown) => codes.push(isTendError(err) ? err.code : err));
    },
  });
  cleanups.push(() => running.stop());
  await drop(dir, "in.txt", "x");
  await waitFor(() => running.inbox.counters.done === 1, { message: "done" });
  assert.deepEqual(codes, [...bad.map(() => "TEND_E_INBOX_OUTPUT_NAME"), "TEND_E_INBOX_OUTPUT_DATA"]);
  assert.deepEqual(await list(join(dir, "out")), []);
});

test("a symlink or FIFO in the inbox is moved to failed/, never followed", async () => {
  const dir = await tempDir();
  const secret = join(await tempDir(), "secret.txt");
  await writeFile(secret, "secret");
  const processed: string[] = [];
  const running = startInbox({ dir, settle: 0, process: (file) => void processed.push(file.name) });
  cleanups.push(() => running.stop());
  await symlink(secret, join(dir, "link.txt"));
  execFileSync("mkfifo", [join(dir, "pipe")]);
  // A sidecar is written under a temporary dot name first: count the finished names only.
  await waitFor(
    async () => (await list(join(dir, "failed"))).filter((n) => !n.startsWith(".")).length === 4,
    {
      message: "link and pipe in failed/",
    },
  );
  assert.deepEqual(await list(join(dir, "failed")), [
    "link.txt",
    "link.txt.error.json",
    "pipe",
    "pipe.error.json",
  ]);
  const sidecar = JSON.parse(await readFile(join(dir, "failed", "link.txt.error.json"), "utf8"));
  assert.equal(sidecar.error.code, "TEND_E_INBOX_NOT_A_FILE");
  assert.deepEqual(processed, []);
  assert.equal(await readFile(secret, "utf8"), "secret");
});

test("a name that is not valid UTF-8 is moved to failed/ under a safe stand-in", async () => {
  const dir = await tempDir();
  const running = startInbox({ dir, settle: 0, rescan: 30, process: () => {} });
  cleanups.push(() => running.stop());
  const raw = Buffer.concat([Buffer.from(`${dir}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from(".txt")]);
  await writeFile(raw, "x");
  await waitFor(async () => (await list(join(dir, "failed"))).length === 2, {
    message: "stand-in in failed/",
  });
  const [standIn, sidecarName] = await list(join(dir, "failed"));
  assert.match(standIn ?? "", /^undecodable-name~[0-9a-f]{16}$/);
  const sidecar = JSON.parse(await readFile(join(dir, "failed", sidecarName ?? ""), "utf8"));
  assert.equal(sidecar.error.code, "TEND_E_INBOX_UNDECODABLE_NAME");
  assert.match(sidecar.error.message, /6261642dfffe2e747874/);
});

test("folders on different filesystems are refused at start with TEND_E_INBOX_CROSS_DEVICE", async (t) => {
  const { statSync } = await import("node:fs");
  const shm = "/dev/shm";
  let other: string;
  try {
    if (statSync(shm).dev === statSync(tmpdir()).dev) throw new Error("same device");
    other = await mkdtemp(join(shm, "tend-inbox-"));
  } catch {
    t.skip("needs /dev/shm on a filesystem other than the temp folder's; none here");
    return;
  }
  cleanups.push(() => rm(other, { recursive: true, force: true }));
  const dir = await tempDir();
  const inbox = createInbox({ dir, doneDir: other, process: () => {} }, { log: createLogger() });
  await assert.rejects(inbox.run(new AbortController().signal), (err: unknown) => {
    assert.ok(isTendError(err, "TEND_E_INBOX_CROSS_DEVICE"));
    assert.match(err.message, /different filesystems/);
    return true;
  });
  // The output folder may live anywhere.
  const ok = createInbox({ dir, outDir: other, process: () => {} }, { log: createLogger() });
  const controller = new AbortController();
  const running = ok.run(controller.signal);
  controller.abort();
  await running;
});

test("an output folder a producer replaces with a symbolic link is not written through", async () => {
  const root = await tempDir();
  const dir = join(root, "inbox");
  const victim = join(root, "victim");
  await mkdir(victim, { recursive: true });
  await writeFile(join(victim, "settings.json"), "original");
  const capture = captureLog();
  const started = deferredGate();
  const proceed = deferredGate();
  const inbox = createInbox(
    {
      dir,
      settle: 0,
      retries: 0,
      process: async (_file, ctx) => {
        started.open();
        await proceed.wait;
        await ctx.writeOutput("settings.json", "overwritten");
      },
    },
    { log: capture.log },
  );
  const controller = new AbortController();
  const finished = inbox.run(controller.signal);
  finished.catch(() => {});
  cleanups.push(async () => {
    controller.abort();
    await finished.catch(() => {});
  });
  await mkdir(dir, { recursive: true });
  await drop(dir, "a.csv", "a");
  await started.wait;
  // The producer (who may write the inbox folder) swaps the output folder for a link elsewhere.
  await rename(join(dir, "out"), join(dir, "out-moved"));
  await symlink(victim, join(dir, "out"));
  proceed.open();
  const stuck = await waitFor(() =>
    capture
      .lines()
      .find((l) => (l["err"] as { code?: string } | undefined)?.code === "TEND_E_INBOX_FOLDER_REPLACED"),
  );
  assert.match(String((stuck["err"] as { message: string }).message), /output folder .* symbolic link/);
  assert.equal(await readFile(join(victim, "settings.json"), "utf8"), "original");
  assert.deepEqual(
    await list(victim),
    ["settings.json"],
    "the staged output was removed, nothing left there",
  );
  assert.deepEqual(await list(join(dir, "done")), [], "the file is not done");
  controller.abort();
  await finished.catch(() => {});
});

/** A gate a test opens once. */
function deferredGate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

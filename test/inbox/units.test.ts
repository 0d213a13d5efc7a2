import assert from "node:assert/strict";
import { test } from "node:test";
import { readlinkSync } from "node:fs";
import type { ErrorCode } from "../../src/errors/catalogue.ts";
import { isTendError } from "../../src/errors/tend-error.ts";
import { folderRetryDelayMs } from "../../src/inbox/folder-guard.ts";
import { createInbox } from "../../src/inbox/index.ts";
import { compileMatch } from "../../src/inbox/match.ts";
import {
  decodeName,
  fitName,
  isTemporaryName,
  outputNameProblem,
  variantName,
} from "../../src/inbox/names.ts";
import { resolveInboxOptions, retryDelayMs } from "../../src/inbox/options.ts";
import { tempOutputOwner } from "../../src/inbox/outputs.ts";
import { newOwner, ownerHost, ownerIsAlive, parseOwner } from "../../src/inbox/owner.ts";
import { msUntilSettled, observeFile } from "../../src/inbox/settle.ts";
import { describeError } from "../../src/inbox/sidecar.ts";
import type { InboxOptions } from "../../src/inbox/types.ts";

test("isTemporaryName: dot, editor and partial-download names", () => {
  for (const n of [
    ".a",
    ".#a",
    "a.tmp",
    "a.TMP",
    "a.part",
    "a.partial",
    "a~",
    "#a#",
    "a.crdownload",
    "a.swp",
  ]) {
    assert.equal(isTemporaryName(n), true, n);
  }
  for (const n of ["a", "a.csv", "a~1.csv", "tmp", "part.csv", "#a"])
    assert.equal(isTemporaryName(n), false, n);
});

test("outputNameProblem: only plain visible names pass", () => {
  assert.equal(outputNameProblem("a.json"), undefined);
  assert.equal(outputNameProblem("名前 1.json"), undefined);
  for (const bad of ["", ".", "..", ".a", "a/b", "a\\b", "a\nb", "a\u0000", "a\u007f", "x".repeat(256), 5]) {
    assert.notEqual(outputNameProblem(bad), undefined, JSON.stringify(bad));
  }
});

test("fitName and variantName keep names within 255 bytes and distinct", () => {
  assert.equal(fitName("a.csv", ".error.json"), "a.csv.error.json");
  const long = "é".repeat(127); // 254 bytes
  const a = fitName(long, ".error.json");
  const b = fitName(`${long.slice(1)}x`, ".error.json");
  assert.ok(Buffer.byteLength(a) <= 255 && a.endsWith(".error.json"));
  assert.notEqual(a, b);
  assert.equal(variantName("a.csv", 0), "a.csv");
  assert.equal(variantName("a.csv", 2), "a~2.csv");
  assert.equal(variantName("noext", 1), "noext~1");
  assert.ok(Buffer.byteLength(variantName("y".repeat(255), 3)) <= 255);
});

test("decodeName spots names that are not UTF-8", () => {
  assert.equal(decodeName(Buffer.from("ok.txt")), "ok.txt");
  assert.equal(decodeName(Buffer.from([0x61, 0xff])), undefined);
});

test("compileMatch: globs, alternatives, sets, RegExp and functions", () => {
  const csv = compileMatch("*.csv");
  assert.equal(csv("a.csv"), true);
  assert.equal(csv("a.csv.bak"), false);
  assert.equal(compileMatch(["*.csv", "*.tsv"])("b.tsv"), true);
  assert.equal(compileMatch("report-{a,b}?.[!x]*")("report-a1.yz"), true);
  assert.equal(compileMatch("report-{a,b}?.[!x]*")("report-a1.xz"), false);
  assert.equal(compileMatch("a+b(1).txt")("a+b(1).txt"), true);
  assert.equal(compileMatch(/^\d+\.json$/g)("12.json"), true);
  assert.equal(compileMatch(/^\d+\.json$/g)("12.json"), true, "no lastIndex state");
  assert.equal(compileMatch((n: string) => n.startsWith("x"))("xy"), true);
  assert.equal(compileMatch(undefined)("anything"), true);
  for (const bad of [5, [], [""], "{a,b", null]) {
    assert.throws(
      () => compileMatch(bad),
      (e: unknown) => isTendError(e, "TEND_E_INBOX_MATCH"),
    );
  }
});

test("settle: counts from mtime, restarts on change, never from the future", () => {
  const sig = { size: 10, mtimeMs: 1000, ino: 1 };
  const first = observeFile(undefined, sig, 1500);
  assert.equal(first.stableSince, 1000);
  assert.equal(msUntilSettled(first, 1000, 1500), 500);
  assert.equal(observeFile(first, { ...sig }, 1900), first, "unchanged keeps its start");
  const grown = observeFile(first, { ...sig, size: 20, mtimeMs: 1800 }, 1900);
  assert.equal(grown.stableSince, 1800);
  const future = observeFile(undefined, { ...sig, mtimeMs: 9999 }, 2000);
  assert.equal(future.stableSince, 2000);
  assert.ok(msUntilSettled(observeFile(undefined, sig, 5000), 0, 5000) <= 0);
});

test("retryDelayMs doubles and caps at 30 s", () => {
  assert.deepEqual(
    [1, 2, 3].map((r) => retryDelayMs(r, 1000)),
    [1000, 2000, 4000],
  );
  assert.equal(retryDelayMs(20, 1000), 30_000);
  assert.equal(retryDelayMs(2, 60_000), 60_000);
});

test("folderRetryDelayMs doubles from 100 ms and caps at 5 s", () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((step) => folderRetryDelayMs(step)),
    [100, 200, 400, 800],
  );
  assert.equal(folderRetryDelayMs(7), 5_000);
  assert.equal(folderRetryDelayMs(1_000), 5_000);
});

test("an owner's host carries its PID namespace, so one in another namespace is judged by heartbeat", () => {
  assert.equal(ownerHost("web1", "4026531836"), "web1-pidns4026531836");
  assert.equal(ownerHost("web 1/x", undefined), "web_1_x");
  // This process's own id, on Linux, names its namespace (read from /proc/self/ns/pid).
  const ns = /^pid:\[([0-9]+)\]$/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
  assert.ok(ns !== undefined, "this test runs on Linux");
  const self = newOwner();
  assert.ok(self.host.endsWith(`-pidns${ns}`), self.host);
  // The same host name in another PID namespace (a container): its pid 1 is not our pid 1.
  const elsewhere = { ...self, host: self.host.replace(`-pidns${ns}`, "-pidns1234"), pid: 1, start: "5" };
  const facts = {
    self,
    liveTokens: new Set<string>(),
    probe: { exists: true, start: "999" }, // our pid 1, started at another time
    leaseTtlMs: 30_000,
  };
  assert.equal(ownerIsAlive(elsewhere, { ...facts, heartbeatAgeMs: 1_000 }), true, "its heartbeat is fresh");
  assert.equal(ownerIsAlive(elsewhere, { ...facts, heartbeatAgeMs: 60_000 }), false, "its heartbeat is old");
});

test("owner ids round-trip and liveness follows the documented rules", () => {
  const self = { host: "h1", boot: "b1", pid: 100, start: "555", token: "aaaa" };
  assert.deepEqual(parseOwner("h1~b1~100~555~aaaa"), self);
  assert.equal(parseOwner("not-an-owner"), undefined);
  assert.equal(parseOwner("h~b~0~1~t"), undefined);
  const base = { self, liveTokens: new Set(["aaaa"]), heartbeatAgeMs: 0, leaseTtlMs: 30_000 };
  const alive = { exists: true, start: "777" };
  const other = { host: "h1", boot: "b1", pid: 200, start: "777", token: "bbbb" };
  assert.equal(ownerIsAlive(other, { ...base, probe: alive }), true, "live pid, same start");
  assert.equal(
    ownerIsAlive(other, { ...base, probe: { exists: false, start: undefined } }),
    false,
    "pid gone",
  );
  assert.equal(ownerIsAlive(other, { ...base, probe: { exists: true, start: "778" } }), false, "pid reused");
  assert.equal(
    ownerIsAlive({ ...other, start: "x" }, { ...base, probe: alive }),
    true,
    "start unknown: trust the pid",
  );
  assert.equal(ownerIsAlive({ ...other, boot: "b0" }, { ...base, probe: alive }), false, "another boot");
  assert.equal(
    ownerIsAlive({ ...self, token: "cccc" }, { ...base, probe: alive }),
    false,
    "a stopped inbox of this process",
  );
  assert.equal(ownerIsAlive(self, { ...base, probe: alive }), true);
  const remote = { ...other, host: "h2" };
  assert.equal(
    ownerIsAlive(remote, { ...base, probe: { exists: false, start: undefined }, heartbeatAgeMs: 1000 }),
    true,
  );
  assert.equal(
    ownerIsAlive(remote, { ...base, probe: alive, heartbeatAgeMs: 31_000 }),
    false,
    "remote lease expired",
  );
});

test("temporary output names carry their owner", () => {
  assert.equal(tempOutputOwner(".tend~h~b~1~2~tok~17.tmp"), "h~b~1~2~tok");
  assert.equal(tempOutputOwner("result.tmp"), undefined);
});

test("describeError keeps message, code and stack; non-errors become text", () => {
  const err = Object.assign(new Error("boom"), { code: "E_X" });
  const d = describeError(err);
  assert.equal(d.message, "boom");
  assert.equal(d.code, "E_X");
  assert.match(d.stack ?? "", /boom/);
  assert.deepEqual(describeError("plain"), { name: "NonError", message: "plain" });
  assert.deepEqual(describeError({ a: 1 }), { name: "NonError", message: '{"a":1}' });
});

test("bad options throw TEND_E_INBOX_ codes naming the value", () => {
  const ok: InboxOptions = { dir: "/tmp/x", process: () => {} };
  const cases: [unknown, ErrorCode][] = [
    [null, "TEND_E_INBOX_OPTIONS"],
    [{ ...ok, typo: 1 }, "TEND_E_UNKNOWN_OPTION"],
    [{ ...ok, dir: "" }, "TEND_E_INBOX_DIR"],
    [{ ...ok, dir: 3 }, "TEND_E_INBOX_DIR"],
    [{ ...ok, outDir: "" }, "TEND_E_INBOX_DIR"],
    [{ ...ok, process: "fn" }, "TEND_E_INBOX_PROCESS"],
    [{ ...ok, concurrency: 0 }, "TEND_E_INBOX_CONCURRENCY"],
    [{ ...ok, concurrency: 1.5 }, "TEND_E_INBOX_CONCURRENCY"],
    [{ ...ok, retries: -1 }, "TEND_E_INBOX_RETRIES"],
    [{ ...ok, settle: "soon" }, "TEND_E_INBOX_DURATION"],
    [{ ...ok, rescan: 0 }, "TEND_E_INBOX_DURATION"],
    [{ ...ok, timeout: -5 }, "TEND_E_INBOX_DURATION"],
    [{ ...ok, folderTimeout: 0 }, "TEND_E_INBOX_DURATION"],
    [{ ...ok, onDone: "archive" }, "TEND_E_INBOX_ON_DONE"],
    [{ ...ok, name: "" }, "TEND_E_INBOX_NAME"],
    [{ ...ok, match: 7 }, "TEND_E_INBOX_MATCH"],
    [{ ...ok, watch: "yes" }, "TEND_E_INBOX_OPTIONS"],
    [{ ...ok, outDir: "/tmp/x" }, "TEND_E_INBOX_FOLDER_CONFLICT"],
    [{ ...ok, doneDir: "/tmp/x/failed" }, "TEND_E_INBOX_FOLDER_CONFLICT"],
  ];
  for (const [options, code] of cases) {
    assert.throws(
      () => createInbox(options as InboxOptions),
      (e: unknown) => isTendError(e, code),
      `${JSON.stringify(options)} -> ${code}`,
    );
  }
  const r = resolveInboxOptions({ ...ok, settle: "250ms", rescan: "5s" });
  assert.equal(r.settleMs, 250);
  assert.equal(r.rescanMs, 5000);
  assert.equal(r.doneDir, "/tmp/x/done");
  assert.equal(r.processingDir, "/tmp/x/.processing");
  assert.equal(r.concurrency, 1);
  assert.equal(r.retries, 2);
  assert.equal(r.folderTimeoutMs, 30_000);
  assert.equal(resolveInboxOptions({ ...ok, folderTimeout: "2s" }).folderTimeoutMs, 2_000);
});

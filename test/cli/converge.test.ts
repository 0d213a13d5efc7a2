import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { createConverger, TerminalError } from "../../src/converge/index.ts";
import { createLogger } from "../../src/log/index.ts";
import type { Store } from "../../src/store/index.ts";
import { type Backend, createBackend } from "../support/backends.ts";
import { openOperator } from "../support/operator.ts";
import { waitFor } from "../support/wait.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const exec = promisify(execFile);
const log = createLogger({ level: "silent" });
const DAY = 86_400_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function tend(...args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TEND_LOG_LEVEL: "warn", TEND_LOG_PRETTY: "0" };
  try {
    const { stdout, stderr } = await exec(process.execPath, [TEND, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

for (const driver of ["sqlite", "postgres"] as const) {
  describe(`tend converge keys and inconsistencies prune (${driver}, real processes)`, () => {
    let backend: Backend | null;
    let store: Store;
    before(async () => {
      backend = await createBackend(driver);
      if (backend !== null) store = await backend.open({ log });
    });
    after(() => backend?.cleanup());

    it("lists parked keys, clears one (the running leader runs it again at once), and all only with --yes", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      const url = backend.url;
      let fixed = false;
      const calls = new Map<string, number>();
      const converger = createConverger(
        {
          name: "billing-sync",
          every: "1h",
          find: () => ["acct-1", "acct-2", "acct-3"],
          converge: (key) => {
            calls.set(key, (calls.get(key) ?? 0) + 1);
            if (!fixed) throw new TerminalError(`account ${key} has no plan`);
            return undefined;
          },
        },
        { store, log },
      );
      const controller = new AbortController();
      const running = converger.run(controller.signal);
      try {
        await waitFor(async () => (await store.converge.listTerminal("billing-sync")).length === 3, {
          message: "three parked keys",
        });
        const listed = await tend("converge", "keys", "list", "-d", url);
        assert.equal(listed.code, 0, listed.stderr);
        assert.match(listed.stdout, /converger\s+key\s+parked at/);
        assert.match(listed.stdout, /billing-sync\s+acct-2\s+\S+\s+-\s+account acct-2 has no plan/);
        const json = await tend("converge", "keys", "list", "--json", "-c", "billing-sync", "-d", url);
        assert.deepEqual(
          json.stdout
            .trim()
            .split("\n")
            .map((l) => (JSON.parse(l) as { key: string }).key)
            .sort(),
          ["acct-1", "acct-2", "acct-3"],
        );
        assert.equal(
          (await tend("converge", "keys", "list", "-c", "nobody", "-d", url)).stdout,
          "no parked keys\n",
        );

        fixed = true;
        const one = await tend("converge", "keys", "clear", "billing-sync", "acct-2", "-d", url);
        assert.equal(one.code, 0, one.stderr);
        assert.match(one.stdout, /cleared parked key "acct-2" of converger "billing-sync"/);
        await waitFor(() => calls.get("acct-2") === 2, { timeoutMs: 5_000, message: "acct-2 to run again" });
        const again = await tend("converge", "keys", "clear", "billing-sync", "acct-2", "-d", url);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /has no parked key "acct-2"/);

        const refused = await tend("converge", "keys", "clear", "billing-sync", "--all", "-d", url);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /2 parked key\(s\) .* would be cleared; run again with --yes/);
        assert.equal((await store.converge.listTerminal("billing-sync")).length, 2);
        const all = await tend("converge", "keys", "clear", "billing-sync", "--all", "--yes", "-d", url);
        assert.equal(all.code, 0, all.stderr);
        assert.match(all.stdout, /cleared 2 parked key\(s\)/);
        await waitFor(() => calls.get("acct-1") === 2 && calls.get("acct-3") === 2, {
          timeoutMs: 5_000,
          message: "the others to run again",
        });
        const usage = await tend("converge", "keys", "clear", "billing-sync", "-d", url);
        assert.equal(usage.code, 1);
        assert.match(usage.stderr, /either one key, or --all .*\[TEND_E_CONVERGER_INVALID_FILTER\]/);
      } finally {
        controller.abort();
        await running;
      }
    });

    it("prunes inconsistencies older than a retention", async (t) => {
      if (backend === null) return t.skip("PostgreSQL unavailable (TEND_SKIP_POSTGRES=1)");
      await store.converge.recordInconsistencies(
        "pruned",
        ["old-1", "old-2", "new"].map((key) => ({ key, changes: { key } })),
        null,
      );
      const op = await openOperator(backend);
      try {
        const table =
          driver === "postgres" ? "tend.converge_inconsistencies" : "tend_converge_inconsistencies";
        const old = Date.now() - 45 * DAY;
        await op.exec(`UPDATE ${table} SET at = $1 WHERE converger = 'pruned' AND key <> 'new'`, [
          driver === "postgres" ? new Date(old) : old,
        ]);
      } finally {
        await op.close();
      }
      const run = await tend(
        "converge",
        "inconsistencies",
        "prune",
        "--older-than",
        "30d",
        "-d",
        backend.url,
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^pruned 2 inconsistency\(ies\) recorded before /);
      const left = await store.converge.listInconsistencies({ converger: "pruned" });
      assert.deepEqual(
        left.map((r) => r.key),
        ["new"],
      );
    });
  });
}

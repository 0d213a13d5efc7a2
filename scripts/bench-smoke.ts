/**
 * Runs every benchmark once in smoke mode (`--smoke --json`) so that none of them rots, and checks
 * that each prints its JSON summary as its last line. Used by CI.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const benchDir = join(import.meta.dirname, "..", "bench");
const benches = readdirSync(benchDir)
  .filter((f) => f.endsWith(".ts") && !f.startsWith("_"))
  .sort();
let failed = 0;
for (const file of benches) {
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(benchDir, file), "--smoke", "--json"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 600_000,
  });
  const lines = run.stdout.trim().split("\n");
  const last = lines.at(-1) ?? "";
  let ok = run.status === 0;
  try {
    const parsed = JSON.parse(last) as { bench?: unknown; rows?: unknown; ratios?: unknown };
    ok &&=
      typeof parsed.bench === "string" && Array.isArray(parsed.rows) && typeof parsed.ratios === "object";
  } catch {
    ok = false;
  }
  process.stdout.write(`${run.stdout}\n`);
  console.log(
    `${ok ? "ok  " : "FAIL"} ${file} (${Date.now() - started} ms, exit ${run.status ?? run.signal})`,
  );
  if (!ok) failed++;
}
console.log(`${benches.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;

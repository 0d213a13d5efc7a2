import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { Jobs } from "../../src/jobs/index.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { silent } from "../conformance/jobs/helpers.ts";
import { makeTempDir } from "../support/tmp.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const exec = promisify(execFile);

async function tend(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["TEND_DATABASE_URL"];
  try {
    const { stdout, stderr } = await exec(process.execPath, [TEND, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("tend jobs show: a job's parents and dependents (real processes running bin/tend.js)", () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let url: string;
  let store: Store;
  before(async () => {
    tmp = await makeTempDir("tend-cli-deps-");
    url = `sqlite:${join(tmp.dir, "tend.db")}`;
    store = await openStore(url);
  });
  after(async () => {
    await store.close();
    await tmp.cleanup();
  });

  it("prints what a job runs after and what runs after it, with their states; --json carries them", async () => {
    const jobs = new Jobs(async () => store, { log: silent });
    const flow = await jobs.enqueueFlow({
      kind: "report.merge",
      children: [{ kind: "report.part" }, { kind: "report.part", delay: "1h" }],
    });
    const [a, b] = flow.children.map((c) => c.id);
    const root = await tend("jobs", "show", flow.id, "-d", url);
    assert.equal(root.code, 0, root.stderr);
    assert.match(root.stdout, /\[waiting\]/);
    assert.match(
      root.stdout,
      new RegExp(`^runs after ${a} report.part \\[available\\], ${b} report.part \\[scheduled\\]$`, "m"),
    );
    assert.match(root.stdout, /^runs before -$/m);
    const leaf = await tend("jobs", "show", a!, "-d", url, "--json");
    assert.equal(leaf.code, 0, leaf.stderr);
    const parsed = JSON.parse(leaf.stdout) as { dependencies: unknown };
    assert.deepEqual(parsed.dependencies, {
      parents: [],
      dependents: [{ id: flow.id, kind: "report.merge", state: "waiting" }],
    });
    const plain = await jobs.enqueue("plain.job");
    const shown = await tend("jobs", "show", plain.id, "-d", url);
    assert.doesNotMatch(shown.stdout, /runs after/, "a job without dependencies prints as before");
  });
});

import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { openStore, type Store } from "../../src/store/index.ts";
import { makeTempDir } from "../support/tmp.ts";

const TEND = join(import.meta.dirname, "..", "..", "bin", "tend.js");
const exec = promisify(execFile);

/** Runs `bin/tend.js` in a child process (TEND_DATABASE_URL unset: commands name their database). */
export async function tend(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await tendWithEnv({}, ...args);
}

/**
 * Runs `bin/tend.js` in a child process with `extra` added to its environment (TEND_DATABASE_URL
 * unset unless `extra` sets it).
 */
export async function tendWithEnv(
  extra: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["TEND_DATABASE_URL"];
  Object.assign(env, extra);
  try {
    const { stdout, stderr } = await exec(process.execPath, [TEND, ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/**
 * An SQLite store in a temporary folder for the enclosing `describe`, opened before its tests and
 * closed (folder removed) after them; read `url` and `store` inside tests.
 */
export function sqliteStoreForSuite(prefix: string): {
  readonly url: string;
  readonly store: Store;
  readonly dir: string;
} {
  let tmp: { dir: string; cleanup(): Promise<void> } | undefined;
  let opened: Store | undefined;
  let url = "";
  before(async () => {
    tmp = await makeTempDir(prefix);
    url = `sqlite:${join(tmp.dir, "tend.db")}`;
    opened = await openStore(url);
  });
  after(async () => {
    await opened?.close();
    await tmp?.cleanup();
  });
  return {
    get url() {
      return url;
    },
    get store() {
      if (opened === undefined) throw new Error("the suite's store is opened in before()");
      return opened;
    },
    get dir() {
      if (tmp === undefined) throw new Error("the suite's folder is made in before()");
      return tmp.dir;
    },
  };
}

/**
 * A private PostgreSQL cluster in a temp folder, made with the machine's `initdb` and run with
 * `pg_ctl` on a free port of 127.0.0.1 (as the `postgres` user when this process is root, since
 * PostgreSQL refuses to run as root). The scenario can stop it abruptly (`pg_ctl -m immediate`) and
 * start it again; `remove()` stops it and deletes the folder. The shared server is never touched.
 *
 * Binaries: CHAOS_PG_BIN, else the newest /usr/lib/postgresql/<version>/bin.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../test/support/free-port.ts";

const run = promisify(execFile);

function binDir(): string {
  const fromEnv = process.env["CHAOS_PG_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      `no PostgreSQL binaries under ${root}: install postgresql or set CHAOS_PG_BIN to the folder of initdb and pg_ctl`,
    );
  }
  return join(root, versions[0], "bin");
}

/** The user the server runs as: the `postgres` user when this process is root, else this user. */
async function serverUser(): Promise<{ uid: number; gid: number } | null> {
  if (process.getuid?.() !== 0) return null;
  const id = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  return { uid: await id("-u"), gid: await id("-g") };
}

export class PgCluster {
  readonly url: string;
  readonly #bin: string;
  readonly #dir: string;
  readonly #port: number;
  readonly #user: { uid: number; gid: number } | null;

  private constructor(bin: string, dir: string, port: number, user: { uid: number; gid: number } | null) {
    this.#bin = bin;
    this.#dir = dir;
    this.#port = port;
    this.#user = user;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Runs initdb in a new temp folder (not started yet). */
  static async create(): Promise<PgCluster> {
    const bin = binDir();
    const user = await serverUser();
    const dir = await mkdtemp(join(tmpdir(), "tend-chaos-pg-"));
    if (user !== null) await chown(dir, user.uid, user.gid);
    const cluster = new PgCluster(bin, dir, await freePort(), user);
    await cluster.#pg("initdb", [
      "-D",
      cluster.#data,
      "-U",
      "postgres",
      "-A",
      "trust",
      "-E",
      "UTF8",
      "--no-sync",
    ]);
    return cluster;
  }

  get #data(): string {
    return join(this.#dir, "data");
  }

  async #pg(tool: string, args: readonly string[]): Promise<string> {
    const { stdout } = await run(join(this.#bin, tool), args, {
      ...(this.#user === null ? {} : { uid: this.#user.uid, gid: this.#user.gid }),
      cwd: this.#dir,
      timeout: 120_000,
    });
    return stdout;
  }

  /** Starts the server and returns once it accepts connections. */
  async start(): Promise<void> {
    const options = `-p ${this.#port} -k ${this.#dir} -c listen_addresses=127.0.0.1`;
    await this.#pg("pg_ctl", [
      "-D",
      this.#data,
      "-l",
      join(this.#dir, "server.log"),
      "-o",
      options,
      "-w",
      "-t",
      "60",
      "start",
    ]);
  }

  /** Stops the server the abrupt way: every server process quits at once, recovery runs at the next start. */
  async stopImmediate(): Promise<void> {
    await this.#pg("pg_ctl", ["-D", this.#data, "-m", "immediate", "-w", "stop"]);
  }

  /** Stops the server (if running) and deletes its folder. */
  async remove(): Promise<void> {
    await this.#pg("pg_ctl", ["-D", this.#data, "-m", "immediate", "-w", "stop"]).catch(() => {});
    await rm(this.#dir, { recursive: true, force: true });
  }
}

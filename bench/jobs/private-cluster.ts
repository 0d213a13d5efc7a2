/**
 * A throwaway PostgreSQL cluster for diagnosis: `initdb` in a temp folder, started with
 * `pg_stat_statements` preloaded on its own port, run as the `postgres` user, stopped and removed
 * at the end (registered for the bench's cleanup). The shared server is never reconfigured.
 * Its settings mirror the shared server's non-default ones that matter here (autovacuum,
 * shared_buffers, WAL size), read from it at start.
 */
import { execFileSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./cleanup.ts";
import { queryOnce } from "./pg-admin.ts";

const BIN = "/usr/lib/postgresql/15/bin";

function asPostgres(command: string, args: string[]): string {
  return execFileSync("runuser", ["-u", "postgres", "--", join(BIN, command), ...args], { encoding: "utf8" });
}

export interface PrivateCluster {
  /** Admin URL of the cluster's `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

/** Starts a private cluster on `port`, mirroring the settings of the server at `mirrorUrl`. */
export async function startPrivateCluster(port: number, mirrorUrl: string): Promise<PrivateCluster> {
  const mirrored = await queryOnce<{ name: string; setting: string; unit: string | null }>(
    mirrorUrl,
    `SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('autovacuum', 'shared_buffers', 'max_wal_size', 'min_wal_size', 'fsync',
                     'synchronous_commit', 'wal_level', 'full_page_writes', 'checkpoint_timeout')`,
  );
  const dir = mkdtempSync(join(tmpdir(), "tend-diag-pg-"));
  const userId = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const groupId = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  chownSync(dir, userId, groupId);
  const data = join(dir, "data");
  const removeDir = onCleanup(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const settings = [
    ...mirrored.map((s) => `${s.name}=${s.setting}${s.unit === "8kB" ? "" : (s.unit ?? "")}`),
    // shared_buffers is reported in 8kB pages; pass it as such.
    "listen_addresses=127.0.0.1",
    `port=${port}`,
    `unix_socket_directories=${dir}`,
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.track=all",
    "pg_stat_statements.max=2000",
    "track_io_timing=on",
  ];
  const options = settings.map((s) => `-c ${s}`).join(" ");
  asPostgres("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "start"]);
  const stopServer = onCleanup(`stop private cluster in ${dir}`, () => {
    asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await queryOnce(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  return {
    url,
    async stop() {
      await stopServer();
      await removeDir();
    },
  };
}

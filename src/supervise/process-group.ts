import { readFileSync } from "node:fs";

/**
 * Signals a worker's whole process group. Workers are spawned detached, so each leads its own
 * group (its pid is the group id) and `kill(-pid)` reaches every grandchild it started.
 * Returns false when no process of the group is left.
 *
 * @example
 * ```ts
 * signalGroup(child.pid, "SIGTERM");
 * ```
 */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EPERM") return true;
    return false;
  }
}

/**
 * True while a process with this pid exists and has not exited (EPERM counts as alive: it exists
 * but is not ours; a zombie, exited but not yet reaped, counts as dead).
 *
 * @example
 * ```ts
 * if (!isProcessAlive(status.masterPid)) console.log("the supervisor is not running");
 * ```
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/** True when the process has exited but was not reaped yet (Linux /proc; false elsewhere). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may itself hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

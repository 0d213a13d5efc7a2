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
 * True while a process with this pid exists (EPERM counts as alive: it exists but is not ours).
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
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

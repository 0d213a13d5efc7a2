import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Who holds a claim folder. Each running inbox claims files into its own subfolder of the processing
 * folder, named after its owner: `host~boot~pid~start~token`. `boot` is the kernel boot id and `start`
 * the process start time in clock ticks (both from /proc on Linux, `x` where unknown), so that a
 * reused pid is never mistaken for the original owner; `token` tells apart inboxes of one process.
 * `host` carries the PID namespace where Linux tells it (see {@link ownerHost}): pids mean nothing
 * across namespaces, so containers that share a host name do not judge each other by pid.
 */
export interface OwnerId {
  readonly host: string;
  readonly boot: string;
  readonly pid: number;
  readonly start: string;
  readonly token: string;
}

/** What is known right now about the process an owner id names (gathered by {@link probeProcess}). */
export interface ProcessProbe {
  /** The pid exists (signal 0 succeeded or failed with EPERM). */
  readonly exists: boolean;
  /** Its start time in clock ticks, when readable. */
  readonly start: string | undefined;
}

/** Formats an owner id as a folder name. */
export function formatOwner(owner: OwnerId): string {
  return `${owner.host}~${owner.boot}~${owner.pid}~${owner.start}~${owner.token}`;
}

/**
 * Parses a claim folder name; undefined when the name is not one tend made.
 *
 * @example
 * ```ts
 * parseOwner("web1~3f2a~4242~981234~a1b2c3d4")?.pid; // 4242
 * ```
 */
export function parseOwner(name: string): OwnerId | undefined {
  const parts = name.split("~");
  if (parts.length !== 5) return undefined;
  const [host, boot, pid, start, token] = parts as [string, string, string, string, string];
  if (!/^[1-9][0-9]*$/.test(pid) || host === "" || token === "" || boot === "" || start === "")
    return undefined;
  return { host, boot, pid: Number(pid), start, token };
}

/** Inputs of {@link ownerIsAlive}. */
export interface LivenessFacts {
  /** The owner of this process's inbox doing the check. */
  readonly self: OwnerId;
  /** Tokens of the inboxes running in this process right now. */
  readonly liveTokens: ReadonlySet<string>;
  /** The probe of the owner's pid (only consulted for owners on this host and boot). */
  readonly probe: ProcessProbe;
  /** Milliseconds since the claim folder's last heartbeat (its mtime). */
  readonly heartbeatAgeMs: number;
  /** Age after which a folder of another host counts as abandoned. */
  readonly leaseTtlMs: number;
}

/**
 * Decides whether the owner of a claim folder is still alive, i.e. whether its files must be left
 * alone. Pure. The rules, most certain first:
 * - another host: alive while its heartbeat is younger than `leaseTtlMs` (pids mean nothing here);
 * - this host, another boot: dead;
 * - this very process: alive while that inbox (token) is running;
 * - pid gone: dead; pid present but started at another time: dead (the pid was reused);
 * - otherwise alive. A live process's files are never taken, however slow it is.
 *
 * @example
 * ```ts
 * ownerIsAlive(owner, { self, liveTokens, probe: { exists: false, start: undefined }, heartbeatAgeMs: 0, leaseTtlMs: 30_000 }); // false
 * ```
 */
export function ownerIsAlive(owner: OwnerId, facts: LivenessFacts): boolean {
  const { self } = facts;
  if (owner.host !== self.host) return facts.heartbeatAgeMs < facts.leaseTtlMs;
  if (owner.boot !== "x" && self.boot !== "x" && owner.boot !== self.boot) return false;
  if (owner.pid === self.pid && owner.start === self.start) return facts.liveTokens.has(owner.token);
  if (!facts.probe.exists) return false;
  if (owner.start !== "x" && facts.probe.start !== undefined && facts.probe.start !== owner.start)
    return false;
  return true;
}

/** Reads a process's start time (field 22 of /proc/<pid>/stat), or undefined off Linux / when gone. */
export function readProcessStart(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = rest[19];
    return start !== undefined && /^[0-9]+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/** Probes a pid on this host: does it exist, and when did it start. */
export function probeProcess(pid: number): ProcessProbe {
  let exists: boolean;
  try {
    process.kill(pid, 0);
    exists = true;
  } catch (err) {
    exists = (err as NodeJS.ErrnoException).code === "EPERM";
  }
  return { exists, start: exists ? readProcessStart(pid) : undefined };
}

function readBootId(): string {
  try {
    return (
      readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim().replaceAll("-", "").slice(0, 12) || "x"
    );
  } catch {
    return "x";
  }
}

let selfBase: Omit<OwnerId, "token"> | undefined;

/**
 * Pure: the host part of an owner id: the host name (unsafe characters replaced, at most 64), and the
 * PID namespace's inode when known. Two inboxes with the same host name in different PID namespaces
 * (containers sharing a host name, with host networking or a set `hostname`) then count as on
 * different hosts, judged by their heartbeat, never by a pid that names another process there.
 *
 * @example
 * ```ts
 * ownerHost("web1", "4026531836"); // "web1-pidns4026531836"
 * ownerHost("web 1", undefined); // "web_1"
 * ```
 */
export function ownerHost(name: string, pidNamespace: string | undefined): string {
  const host = name.replace(/[^A-Za-z0-9.-]/g, "_").slice(0, 64) || "host";
  return pidNamespace === undefined ? host : `${host}-pidns${pidNamespace}`;
}

/** This process's PID namespace inode (Linux: /proc/self/ns/pid), or undefined. */
function readPidNamespace(): string | undefined {
  try {
    return /^pid:\[([0-9]+)\]$/.exec(readlinkSync("/proc/self/ns/pid"))?.[1];
  } catch {
    return undefined;
  }
}

/** A fresh owner id for an inbox starting in this process. */
export function newOwner(): OwnerId {
  if (selfBase === undefined || selfBase.pid !== process.pid) {
    const host = ownerHost(hostname(), readPidNamespace());
    selfBase = { host, boot: readBootId(), pid: process.pid, start: readProcessStart("self") ?? "x" };
  }
  return { ...selfBase, token: randomBytes(4).toString("hex") };
}

/** Tokens of the inboxes running in this process (consulted by {@link ownerIsAlive}). */
export const liveTokens = new Set<string>();

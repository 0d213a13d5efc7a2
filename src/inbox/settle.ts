/** What identifies one version of a file for the settle check. */
export interface FileSignature {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

/** The settle state of one name: the version last seen and since when it is known unchanged. */
export interface SettleState {
  readonly sig: FileSignature;
  readonly stableSince: number;
}

/**
 * Records a new observation of a file. An unchanged signature keeps its `stableSince`; a new one
 * starts counting from its mtime (nothing was written since then), never from the future. Pure.
 *
 * @example
 * ```ts
 * const s = observeFile(undefined, { size: 10, mtimeMs: 1000, ino: 7 }, 5000);
 * s.stableSince; // 1000
 * ```
 */
export function observeFile(prev: SettleState | undefined, sig: FileSignature, now: number): SettleState {
  if (prev !== undefined && sameSignature(prev.sig, sig)) return prev;
  return { sig, stableSince: Math.min(now, sig.mtimeMs) };
}

/** True when both signatures describe the same, unchanged file. */
export function sameSignature(a: FileSignature, b: FileSignature): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/**
 * Milliseconds until the file may be claimed (0 or less: now). A file may be claimed once its size
 * and mtime have been stable for `settleMs`. Pure.
 *
 * @example
 * ```ts
 * msUntilSettled({ sig, stableSince: 1000 }, 500, 1200); // 300
 * ```
 */
export function msUntilSettled(state: SettleState, settleMs: number, now: number): number {
  return state.stableSince + settleMs - now;
}

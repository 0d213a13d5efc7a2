/**
 * A file's identity, `<device>:<inode>`: what a failure sidecar (`file`) and a placeholder (see
 * placeholder.ts) record to name the input they belong to, whatever its name. Pure.
 */
export function fileIdentity(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

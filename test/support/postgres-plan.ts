/**
 * Which PostgreSQL a test run uses, decided from the environment alone (the probe and the start of
 * an embedded server are the caller's). In order:
 * - TEND_TEST_EMBEDDED_POSTGRES=1: always a fresh embedded server (used by CI to test another version);
 * - TEND_TEST_POSTGRES_URL set: that server, as given;
 * - otherwise the default URL if a server answers there (TEND_TEST_POSTGRES_PROBE_URL replaces the
 *   default, so a test of this choice can point it at a port where nothing listens), else embedded.
 */
export type PostgresPlan =
  { use: "embedded"; why: string } | { use: "given"; url: string } | { use: "probe"; url: string };

/** The environment variables the plan reads. */
export interface PlanEnv {
  TEND_TEST_EMBEDDED_POSTGRES?: string | undefined;
  TEND_TEST_POSTGRES_URL?: string | undefined;
  TEND_TEST_POSTGRES_PROBE_URL?: string | undefined;
}

/**
 * The first step of the choice: embedded, the given URL, or a URL to probe (embedded if nothing
 * usable answers there).
 *
 * @example
 * ```ts
 * planTestPostgres({}, "postgres://postgres@127.0.0.1:5432/test"); // { use: "probe", url: ... }
 * ```
 */
export function planTestPostgres(env: PlanEnv, defaultUrl: string): PostgresPlan {
  const set = (value: string | undefined): value is string => value !== undefined && value !== "";
  if (env.TEND_TEST_EMBEDDED_POSTGRES === "1") {
    return { use: "embedded", why: "TEND_TEST_EMBEDDED_POSTGRES=1" };
  }
  if (set(env.TEND_TEST_POSTGRES_URL)) return { use: "given", url: env.TEND_TEST_POSTGRES_URL };
  return {
    use: "probe",
    url: set(env.TEND_TEST_POSTGRES_PROBE_URL) ? env.TEND_TEST_POSTGRES_PROBE_URL : defaultUrl,
  };
}

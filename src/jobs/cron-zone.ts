/**
 * The IANA time zone this process reads local times in (env `TZ`, else the system's), as the
 * runtime resolved it; null when it resolved none it can name (`TZ` set to a name it does not
 * know, or to an empty string).
 *
 * A schedule without `timezone` is read in this zone, so the process registers it with this zone:
 * `tend cron list` and the dashboard, which may run in another zone, then compute the schedule's
 * next runs as the scheduling process does.
 *
 * @example
 * ```ts
 * processTimezone(); // "Europe/Berlin" under TZ=Europe/Berlin
 * ```
 */
export function processTimezone(): string | null {
  const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  if (typeof zone !== "string" || zone === "" || zone === "Etc/Unknown") return null;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

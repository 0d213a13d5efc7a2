import { invalidArgument } from "../../errors/index.ts";
import { isJobId, JOB_STATES, type JobState, type ListFilter, type QueueStats } from "../../store/index.ts";

/** The largest page the admin API returns. */
export const MAX_PAGE = 500;
const DEFAULT_PAGE = 50;

/** Pure: the query parameters of a request URL. */
export function queryOf(url: string | undefined): URLSearchParams {
  const q = (url ?? "").indexOf("?");
  return new URLSearchParams(q === -1 ? "" : (url ?? "").slice(q + 1));
}

function text(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === "" ? undefined : v;
}

/**
 * Pure: a page request (`limit`, `before`: the cursor, an id) from query parameters; throws
 * TEND_E_ADMIN_BAD_REQUEST naming a bad one.
 *
 * @example
 * ```ts
 * pageOf(new URLSearchParams("limit=20&before=1042")); // { limit: 20, beforeId: "1042" }
 * ```
 */
export function pageOf(q: URLSearchParams): { limit: number; beforeId?: string } {
  const rawLimit = text(q, "limit");
  const limit = rawLimit === undefined ? DEFAULT_PAGE : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw invalidArgument("TEND_E_ADMIN_BAD_REQUEST", "limit", rawLimit, `an integer from 1 to ${MAX_PAGE}`);
  const before = text(q, "before");
  if (before !== undefined && !isJobId(before))
    throw invalidArgument("TEND_E_ADMIN_BAD_REQUEST", "before", before, "an id (decimal digits)");
  return before === undefined ? { limit } : { limit, beforeId: before };
}

/**
 * Pure: the jobs filter of a list request (`state`, `queue`, `kind`, `from` and `to`: the
 * creation time range, `from` no later than `to`, `q`: text searched in payloads and errors, and
 * the page). Throws TEND_E_ADMIN_BAD_REQUEST naming a bad parameter.
 *
 * @example
 * ```ts
 * jobFilterOf(new URLSearchParams("state=discarded&queue=mail")); // { state: "discarded", queue: "mail", limit: 50 }
 * ```
 */
export function jobFilterOf(q: URLSearchParams): ListFilter & { limit: number } {
  const filter: ListFilter & { limit: number } = pageOf(q);
  const state = text(q, "state");
  if (state !== undefined) {
    if (!(JOB_STATES as readonly string[]).includes(state))
      throw invalidArgument("TEND_E_ADMIN_BAD_REQUEST", "state", state, `one of ${JOB_STATES.join(", ")}`);
    filter.state = state as JobState;
  }
  const queue = text(q, "queue");
  if (queue !== undefined) filter.queue = queue;
  const kind = text(q, "kind");
  if (kind !== undefined) filter.kind = kind;
  const from = timeOf(q, "from");
  if (from !== undefined) filter.createdFrom = from;
  const to = timeOf(q, "to");
  if (to !== undefined) filter.createdBefore = to;
  // A range that ends before it starts is a mistake (swapped fields), not a question whose
  // answer is "no jobs".
  if (from !== undefined && to !== undefined && from.getTime() > to.getTime())
    throw invalidArgument(
      "TEND_E_ADMIN_BAD_REQUEST",
      "from",
      text(q, "from")!.slice(0, 40),
      `a time no later than \`to\` (${text(q, "to")!.slice(0, 40)})`,
    );
  const search = text(q, "q");
  if (search !== undefined) {
    if (search.length > MAX_SEARCH)
      throw invalidArgument(
        "TEND_E_ADMIN_BAD_REQUEST",
        "q",
        search.slice(0, 40),
        `text of at most ${MAX_SEARCH} characters`,
      );
    filter.text = search;
  }
  return filter;
}

/** The longest search text of the jobs list. */
export const MAX_SEARCH = 200;

/**
 * Pure: a time parameter in ISO 8601 (`2026-12-02`, `2026-12-02T13:00Z`, `...T13:00:05.250+01:00`),
 * UTC when it names no offset (the dashboard's form says UTC; Date.parse would take the server's
 * local time), and a real calendar date (2026-02-30 is refused, not moved to March); else
 * TEND_E_ADMIN_BAD_REQUEST.
 *
 * @example
 * ```ts
 * parseUtcTime("2026-12-02T13:00"); // Date of 2026-12-02T13:00:00.000Z
 * parseUtcTime("2026-02-30"); // NaN
 * ```
 */
export function parseUtcTime(v: string): number {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?(Z|[+-]\d{2}:\d{2})?$/i.exec(v);
  if (m === null) return Number.NaN;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone] = m;
  const local = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Math.round(Number(frac || "0") * 1000),
  );
  const check = new Date(local);
  // Date.UTC rolls over (Feb 30 becomes Mar 2; hour 24 the next day): a real date reads back the same.
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(sec)
  )
    return Number.NaN;
  if (zone === undefined || zone.toUpperCase() === "Z") return local;
  const sign = zone.startsWith("-") ? -1 : 1;
  const [zh, zm] = zone.slice(1).split(":").map(Number) as [number, number];
  if (zh > 23 || zm > 59) return Number.NaN;
  return local - sign * (zh * 60 + zm) * 60_000;
}

/** A time parameter (see {@link parseUtcTime}), or TEND_E_ADMIN_BAD_REQUEST. */
function timeOf(q: URLSearchParams, name: string): Date | undefined {
  const v = text(q, name);
  if (v === undefined) return undefined;
  const ms = parseUtcTime(v);
  if (Number.isNaN(ms))
    throw invalidArgument(
      "TEND_E_ADMIN_BAD_REQUEST",
      name,
      v.slice(0, 40),
      "a time in ISO 8601 (2026-12-02T13:00Z)",
    );
  return new Date(ms);
}

/**
 * Pure: the filter with its search text kept to errors when payloads are hidden (searching them
 * would tell what they hold).
 *
 * @example
 * ```ts
 * searchScope({ text: "boom", limit: 50 }, true); // { errorText: "boom", limit: 50 }
 * ```
 */
export function searchScope<F extends ListFilter>(filter: F, hidePayloads: boolean): F {
  if (!hidePayloads || filter.text === undefined) return filter;
  const { text: t, ...rest } = filter;
  return { ...rest, errorText: t } as F;
}

/**
 * Pure: one page out of `limit + 1` rows read newest first: the rows to show and the cursor of
 * the next page (the last row's id), or null on the last page. Keyset pagination: no OFFSET and
 * no count.
 *
 * @example
 * ```ts
 * pageFrom([{ id: "9" }, { id: "8" }, { id: "7" }], 2); // { items: [9, 8], next: "8" }
 * ```
 */
export function pageFrom<T extends { id: string }>(
  rows: T[],
  limit: number,
): { items: T[]; next: string | null } {
  if (rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: items.at(-1)!.id };
}

/** Pure: queue statistics sorted by name (the order the API and pages show). */
export function sortedQueues(queues: QueueStats[]): QueueStats[] {
  return queues.sort((a, b) => a.queue.localeCompare(b.queue));
}

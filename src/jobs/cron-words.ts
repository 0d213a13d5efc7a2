/**
 * Plain words for common cron expressions, for the dashboard's cron page.
 */

const NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "at 00:00 on 1 January",
  "@annually": "at 00:00 on 1 January",
  "@monthly": "at 00:00 on day 1 of every month",
  "@weekly": "at 00:00 every Sunday",
  "@daily": "at 00:00 every day",
  "@midnight": "at 00:00 every day",
  "@hourly": "every hour, on the hour",
};

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const num = (field: string, max: number): number | null => {
  if (!/^\d{1,2}$/.test(field)) return null;
  const n = Number(field);
  return n <= max ? n : null;
};

const step = (field: string): number | null => {
  const m = /^\*\/(\d{1,2})$/.exec(field);
  return m === null ? null : Number(m[1]);
};

const two = (n: number) => String(n).padStart(2, "0");

/** Pure: the days-of-week field in words ("every day", "on weekdays", "every Monday"...), or null. */
function daysOfWeek(field: string): string | null {
  if (field === "*" || field === "?") return "every day";
  if (field === "1-5" || field.toUpperCase() === "MON-FRI") return "on weekdays";
  if (field === "0,6" || field === "6,0" || field.toUpperCase() === "SAT,SUN") return "on weekends";
  const names = field.split(",").map((d) => (d === "7" ? 0 : num(d, 6)));
  if (names.some((d) => d === null)) return null;
  const words = names.map((d) => `${DAYS[d!]}`);
  return names.length === 1 ? `every ${words[0]}` : `on ${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/**
 * Pure: a common cron expression in plain English, or the expression itself when it is not one
 * of the shapes known here (steps of minutes or hours, a time of day on every day, some days of
 * the week or one day of the month, the @nicknames). Five fields, or six with a leading `0`
 * seconds field.
 *
 * @example
 * ```ts
 * describeCron("*\/5 * * * *"); // "every 5 minutes"
 * describeCron("0 2 * * *"); // "at 02:00 every day"
 * describeCron("30 9 * * 1-5"); // "at 09:30 on weekdays"
 * describeCron("0 0 1,15 * *"); // "0 0 1,15 * *" (not known: the expression)
 * ```
 */
export function describeCron(expression: string): string {
  const text = expression.trim().replace(/\s+/g, " ");
  const nickname = NICKNAMES[text.toLowerCase()];
  if (nickname !== undefined) return nickname;
  let fields = text.split(" ");
  if (fields.length === 6 && fields[0] === "0") fields = fields.slice(1);
  if (fields.length !== 5) return expression;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (month !== "*") return expression;
  const everyDay = dom === "*" && (dow === "*" || dow === "?");
  if (everyDay && hour === "*") {
    if (minute === "*") return "every minute";
    const s = step(minute);
    if (s !== null && s > 0) return s === 1 ? "every minute" : `every ${s} minutes`;
    const m = num(minute, 59);
    if (m !== null) return m === 0 ? "every hour, on the hour" : `every hour at minute ${m}`;
    return expression;
  }
  const m = num(minute, 59);
  if (m === null) return expression;
  const hs = step(hour);
  if (everyDay && hs !== null && hs > 0) {
    const every = hs === 1 ? "every hour" : `every ${hs} hours`;
    return m === 0 ? `${every}, on the hour` : `${every} at minute ${m}`;
  }
  const hours = hour.split(",").map((h) => num(h, 23));
  if (hours.some((h) => h === null)) return expression;
  const times = hours.map((h) => `${two(h!)}:${two(m)}`);
  const at = `at ${times.length === 1 ? times[0] : `${times.slice(0, -1).join(", ")} and ${times.at(-1)}`}`;
  if (dom === "*") {
    const days = daysOfWeek(dow);
    return days === null ? expression : `${at} ${days}`;
  }
  const d = num(dom, 31);
  if (d === null || d === 0 || (dow !== "*" && dow !== "?")) return expression;
  return `${at} on day ${d} of every month`;
}

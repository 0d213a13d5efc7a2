import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeCron } from "../../src/jobs/cron-words.ts";

describe("describeCron", () => {
  it("puts common expressions in plain words", () => {
    const cases: Array<[string, string]> = [
      ["* * * * *", "every minute"],
      ["*/1 * * * *", "every minute"],
      ["*/5 * * * *", "every 5 minutes"],
      ["0 * * * *", "every hour, on the hour"],
      ["15 * * * *", "every hour at minute 15"],
      ["0 */2 * * *", "every 2 hours, on the hour"],
      ["30 */6 * * *", "every 6 hours at minute 30"],
      ["0 2 * * *", "at 02:00 every day"],
      ["0 0 2 * * *", "at 02:00 every day"],
      ["30 9 * * 1-5", "at 09:30 on weekdays"],
      ["0 10 * * 0,6", "at 10:00 on weekends"],
      ["0 8 * * 1", "at 08:00 every Monday"],
      ["0 8 * * 7", "at 08:00 every Sunday"],
      ["0 8 * * 1,3,5", "at 08:00 on Monday, Wednesday and Friday"],
      ["0 9,17 * * *", "at 09:00 and 17:00 every day"],
      ["45 3 1 * *", "at 03:45 on day 1 of every month"],
      ["@daily", "at 00:00 every day"],
      ["@hourly", "every hour, on the hour"],
      ["@WEEKLY", "at 00:00 every Sunday"],
      ["  0   2 * * *  ", "at 02:00 every day"],
    ];
    for (const [expression, words] of cases) assert.equal(describeCron(expression), words, expression);
  });

  it("falls back to the expression for shapes it does not know", () => {
    for (const expression of [
      "0 0 1,15 * *",
      "0 0 * 1 *",
      "5-10 * * * *",
      "0 25 * * *",
      "61 * * * *",
      "0 2 1 * 1",
      "*/5 * * * * *",
      "0 0 0 1 1 * 2030",
      "0 0 L * *",
      "@reboot",
      "",
    ])
      assert.equal(describeCron(expression), expression, expression);
  });
});

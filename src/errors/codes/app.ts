/** Error codes of the app wiring (see docs/errors.md). Keys are the codes; values their meaning. */
export const APP_CODES = {
  TEND_E_INVALID_APP_OPTIONS: "An option given to createApp or an app method is of the wrong type.",
  TEND_E_APP_STARTED:
    "The app is running: it cannot be started again before it stopped, and its tasks, inboxes, convergers, cron schedules and components are added before start().",
} as const satisfies Record<`TEND_E_${string}`, string>;

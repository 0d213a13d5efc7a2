/** Error codes of the supervise part (see docs/errors.md). Keys are the codes; values their meaning. */
export const SUPERVISE_CODES = {
  TEND_E_SUPERVISE_INVALID_COUNT:
    "--min/--max (or min/max) is not a whole number, min > max, min < 0 or max < 1.",
  TEND_E_SUPERVISE_PROGRAM_NOT_FOUND: "The program to supervise does not exist or is not a file.",
  TEND_E_SUPERVISE_INVALID_TIMEOUT:
    "A supervisor timeout, interval or window is not a positive duration (ms or a string like `30s`) up to one day, or the hang timeout is not above the heartbeat.",
  TEND_E_SUPERVISE_INVALID_OPTION:
    "A supervisor option (the program, its args, execArgv or env, restart limits, scaling settings, status file, queues, log, store) is invalid.",
  TEND_E_SUPERVISE_GAVE_UP:
    "Workers were restarted more often than the restart intensity allows; the supervisor stopped the rest and exited.",
  TEND_E_SUPERVISE_WORKER_DIED:
    "A worker process exited unexpectedly (crashed, was killed by a signal, or was killed by the master as hung); given to the supervisor's onError hook.",
  TEND_E_SUPERVISE_NOT_SUPERVISED:
    "The supervised-worker task was started in a process that has no IPC channel to a master.",
  TEND_E_SUPERVISE_INVALID_HOOK:
    "The `tend supervise --on-error` module does not exist, fails to load, or exports no function (default export or `onError`).",
  TEND_E_SUPERVISE_STATUS_UNREADABLE:
    "The supervisor status file is missing or is not valid supervisor status JSON.",
} as const satisfies Record<`TEND_E_${string}`, string>;

/** A supervise error code. */
export type SuperviseCode = keyof typeof SUPERVISE_CODES;

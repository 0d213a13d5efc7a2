/** Error codes of the jobs part (see docs/errors.md). Keys are the codes; values their meaning. */
export const JOBS_CODES = {
  TEND_E_INVALID_JOB_KIND: "A job kind is not a non-empty name of letters, digits and `._:-` (at most 128).",
  TEND_E_INVALID_QUEUE: "A queue name is not a non-empty name of letters, digits and `._:-` (at most 128).",
  TEND_E_INVALID_JOB_OPTIONS:
    "An option given to define, enqueue, cron or batch is out of range or of the wrong type.",
  TEND_E_INVALID_QUEUE_LIMITS:
    "A queue limit is out of range or of the wrong type: concurrency an integer 1-10,000, rate a limit of 1-1,000,000 starts per window of 1 ms to 24 h (`10/1s`), or null to clear.",
  TEND_E_DUPLICATE_JOB_KIND: "A job kind was defined twice in one app.",
  TEND_E_PAYLOAD_TOO_LARGE: "A payload's JSON is larger than the configured limit (1 MiB by default).",
  TEND_E_UNKNOWN_JOB_KIND:
    "A worker claimed a job of a kind it has no handler for (recorded on the job; retried with backoff).",
  TEND_E_INVALID_PAYLOAD:
    "A payload cannot be stored as it is (thrown at enqueue, naming the path of the bad value: NaN, a Map, U+0000, a cycle...), or failed its kind's validation (recorded on the job; discarded without retry).",
  TEND_E_INVALID_RESULT:
    "A handler returned a result that cannot be stored as it is (NaN, a Map, U+0000, a cycle, too large...); the message names its path (recorded on the job; retried).",
  TEND_E_RESULT_NOT_RECORDED:
    "The database refused to record one job's result (the message has its error); the attempt is recorded as failed and retried, and the jobs written with it are not affected.",
  TEND_E_JOB_TIMEOUT:
    "A handler ran longer than its kind's timeout; its signal was aborted (recorded on the job).",
  TEND_E_LEASE_EXPIRED:
    "A running job's lease lapsed (its worker died or froze); the job was rescued (recorded on the job).",
  TEND_E_WORKER_LOST:
    "A supervisor saw a job's worker die or hang and rescued the job (recorded on the job).",
  TEND_E_JOB_POISONED:
    "The job's worker died or hung `maxLost` times (3 by default) while running it; the job was discarded so that it cannot take down more workers (recorded on the job).",
  TEND_E_JOB_CANCELLED: "A job was cancelled while running; its handler's signal was aborted.",
  TEND_E_INVALID_CRON:
    "A cron schedule is invalid: the expression cannot be parsed or never fires, the timezone is not a known IANA name, or a schedule option (name, catchUp, overlap) is wrong.",
  TEND_E_BATCH_TIMEOUT: "Waiting for a batch's results took longer than the given timeout.",
  TEND_E_JOB_ROW_UNREADABLE:
    "A job's stored row holds an integer too large for JavaScript (beyond 2^53, written outside tend): the job was discarded so that its queue goes on.",
  TEND_E_BATCH_NOT_FOUND:
    "No job carries the batch id waited for: it was never enqueued, its enqueuing transaction has not committed, or its jobs were deleted.",
  TEND_E_JOB_NOT_FOUND: "No job has the given id.",
  TEND_E_INVALID_JOB_ID: "A job id is not a string of decimal digits no larger than 9223372036854775807.",
  TEND_E_CRON_NOT_FOUND:
    "No cron schedule of that name is registered in the store (pause, resume); a process registers its schedules when it starts running them.",
  TEND_E_INVALID_SNOOZE:
    "A handler asked to snooze (`ctx.snooze`) for something that is not a duration from 0 to ten years; thrown inside the handler.",
  TEND_E_INVALID_PROGRESS:
    "A handler reported a progress value (`ctx.progress`) that cannot be stored as it is (NaN, a Map, U+0000, a cycle...); thrown inside the handler, naming the path of the bad value (larger than 4 KiB of JSON: TEND_E_PAYLOAD_TOO_LARGE).",
  TEND_E_JOB_PARENT_NOT_FOUND:
    "A job was enqueued to run after (`after`) a job id that does not exist; nothing of that call was enqueued.",
  TEND_E_JOB_DEPENDENCY_TOO_DEEP:
    "A job was enqueued to run after a job that already waits behind a chain of 200 waiting jobs; nothing of that call was enqueued. A longer chain could not be cancelled in one statement when its head fails. Use a concurrency key with `concurrencyLimit: 1` for long sequences.",
  TEND_E_JOB_PARENT_FAILED:
    'A parent of a waiting job was discarded, cancelled or deleted before it completed, so the job was cancelled (recorded on the job, naming the parent; `onParentFailure: "run"` runs it anyway).',
  TEND_E_INVALID_JOB_FLOW:
    "A flow given to `enqueueFlow` is malformed: a node is not `{ kind, payload?, children? }`, one node object appears twice in the tree (a cycle or a shared child), or the tree is deeper than 100 levels or larger than 10,000 jobs.",
} as const satisfies Record<`TEND_E_${string}`, string>;

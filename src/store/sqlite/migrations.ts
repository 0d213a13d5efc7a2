import type { Migration } from "../migration.ts";

/**
 * The jobs tables on SQLite. `{{schema}}` is replaced by the table prefix (default `tend_`), so
 * `{{schema}}jobs` becomes `tend_jobs`. Times are INTEGER milliseconds since the epoch from the
 * process clock; JSON columns are TEXT.
 *
 * Index design (every index is paid on insert or on each state change, so keep them few):
 * - claim: (queue, priority, run_at, id) over pending rows only, matching the claim query exactly;
 * - running: (lease_expires_at) over running rows; also serves rescue of one worker's jobs and
 *   running counts, since running rows are few (bounded by concurrency);
 * - unique: unique_key over the blocking states (the deduplication itself);
 * - finished: (finished_at) over final rows, for pruning and the completed rate;
 * - retryable: (queue, run_at) over retryable rows (version 8): with the claim index, the queue
 *   statistics count every pending state from index entries alone, never reading a row;
 * - batch: (batch_id, batch_index) where set.
 * The enqueued rate needs no created_at index: ids grow with created_at (inserts are serialized
 * by the write lock), so the store finds the first id of the last minute by bisecting on id.
 *
 * @example
 * ```ts
 * const sql = JOBS_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", "tend_");
 * ```
 */
export const JOBS_MIGRATIONS: Migration[] = [
  {
    component: "jobs",
    version: 1,
    name: "jobs: jobs and cron tables, claim/running/unique/finished/batch indexes",
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'available', 'running', 'completed', 'retryable', 'discarded', 'cancelled')),
  run_at INTEGER NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  unique_key TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  result TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  worker_id TEXT,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  batch_id TEXT,
  batch_index INTEGER
);

CREATE INDEX {{schema}}jobs_claim_idx ON {{schema}}jobs (queue, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable');

CREATE INDEX {{schema}}jobs_running_idx ON {{schema}}jobs (lease_expires_at)
  WHERE state = 'running';

CREATE UNIQUE INDEX {{schema}}jobs_unique_key_idx ON {{schema}}jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable');

CREATE INDEX {{schema}}jobs_finished_idx ON {{schema}}jobs (finished_at)
  WHERE state IN ('completed', 'discarded', 'cancelled');

CREATE INDEX {{schema}}jobs_batch_idx ON {{schema}}jobs (batch_id, batch_index)
  WHERE batch_id IS NOT NULL;

CREATE TABLE {{schema}}cron (
  name TEXT PRIMARY KEY,
  last_tick INTEGER NOT NULL
);
`,
  },
  {
    component: "jobs",
    version: 2,
    name: "jobs: lost and max_lost, for the discard of poison jobs",
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}jobs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE {{schema}}jobs ADD COLUMN max_lost INTEGER NOT NULL DEFAULT 3;
`,
  },
  {
    component: "jobs",
    version: 3,
    name: "jobs: trace_context, the enqueuer's W3C trace context",
    // A nullable column older code never reads or writes: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}jobs ADD COLUMN trace_context TEXT;
`,
  },
  {
    component: "jobs",
    version: 4,
    name: "jobs: queues (pause), concurrency keys and rate limits of the claim",
    // New tables, nullable columns and indexes older code never reads: every 0.x binary works on it
    // (it ignores pauses, keys and limits).
    compatibleFrom: "0.1.0",
    sql: `
CREATE TABLE {{schema}}queues (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  changed_at INTEGER NOT NULL
);

CREATE TABLE {{schema}}rate_windows (
  bucket TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  started INTEGER NOT NULL
);

ALTER TABLE {{schema}}jobs ADD COLUMN concurrency_key TEXT;
ALTER TABLE {{schema}}jobs ADD COLUMN concurrency_limit INTEGER;
ALTER TABLE {{schema}}jobs ADD COLUMN rate_key TEXT;
ALTER TABLE {{schema}}jobs ADD COLUMN rate_limit INTEGER;
ALTER TABLE {{schema}}jobs ADD COLUMN rate_period_ms INTEGER;

CREATE INDEX {{schema}}jobs_limited_claim_idx ON {{schema}}jobs (queue, concurrency_key, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable') AND (concurrency_key IS NOT NULL OR rate_key IS NOT NULL);

CREATE INDEX {{schema}}jobs_keyed_running_idx ON {{schema}}jobs (queue, concurrency_key)
  WHERE state = 'running' AND concurrency_key IS NOT NULL;
`,
  },
  {
    component: "jobs",
    version: 5,
    name: "jobs: progress, cron last_job_id and the cron_entries table (overlap, pause)",
    // Nullable columns and a new table that older code never reads or writes: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}jobs ADD COLUMN progress TEXT;
ALTER TABLE {{schema}}cron ADD COLUMN last_job_id INTEGER;

CREATE TABLE {{schema}}cron_entries (
  name TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  expression TEXT NOT NULL,
  timezone TEXT,
  overlap TEXT NOT NULL DEFAULT 'skip',
  paused INTEGER NOT NULL DEFAULT 0,
  registered_at INTEGER NOT NULL,
  skipped INTEGER NOT NULL DEFAULT 0,
  last_skipped_at INTEGER
);
`,
  },
  {
    component: "jobs",
    version: 6,
    name: "jobs: dependencies (waiting state, job_deps, has_dependents, on_parent_failure, settle triggers)",
    // The rules live in the database (triggers): a binary that does not know dependencies still
    // releases or cancels the dependents of the jobs it finishes. The version that ships it.
    compatibleFrom: "0.1.0",
    // The state CHECK gains 'waiting': SQLite cannot alter a constraint, so the table is rebuilt
    // (same columns, ids and autoincrement counter) and its indexes made again.
    sql: `
CREATE TABLE {{schema}}jobs_v6 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'available', 'running', 'completed', 'retryable', 'discarded', 'cancelled', 'waiting')),
  run_at INTEGER NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  unique_key TEXT,
  errors TEXT NOT NULL DEFAULT '[]',
  result TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  worker_id TEXT,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  batch_id TEXT,
  batch_index INTEGER,
  lost INTEGER NOT NULL DEFAULT 0,
  max_lost INTEGER NOT NULL DEFAULT 3,
  trace_context TEXT,
  concurrency_key TEXT,
  concurrency_limit INTEGER,
  rate_key TEXT,
  rate_limit INTEGER,
  rate_period_ms INTEGER,
  progress TEXT,
  has_dependents INTEGER NOT NULL DEFAULT 0,
  on_parent_failure TEXT
);

INSERT INTO sqlite_sequence (name, seq)
  SELECT '{{schema}}jobs_v6', seq FROM sqlite_sequence WHERE name = '{{schema}}jobs';

INSERT INTO {{schema}}jobs_v6 (id, kind, queue, payload, priority, state, run_at, attempt, max_attempts, unique_key,
    errors, result, created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at, cancel_requested,
    batch_id, batch_index, lost, max_lost, trace_context, concurrency_key, concurrency_limit, rate_key, rate_limit,
    rate_period_ms, progress)
  SELECT id, kind, queue, payload, priority, state, run_at, attempt, max_attempts, unique_key,
    errors, result, created_at, started_at, finished_at, worker_id, lease_token, lease_expires_at, cancel_requested,
    batch_id, batch_index, lost, max_lost, trace_context, concurrency_key, concurrency_limit, rate_key, rate_limit,
    rate_period_ms, progress
  FROM {{schema}}jobs ORDER BY id;

DROP TABLE {{schema}}jobs;
ALTER TABLE {{schema}}jobs_v6 RENAME TO {{schema}}jobs;

CREATE INDEX {{schema}}jobs_claim_idx ON {{schema}}jobs (queue, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable');

CREATE INDEX {{schema}}jobs_running_idx ON {{schema}}jobs (lease_expires_at)
  WHERE state = 'running';

CREATE UNIQUE INDEX {{schema}}jobs_unique_key_idx ON {{schema}}jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable');

CREATE INDEX {{schema}}jobs_finished_idx ON {{schema}}jobs (finished_at)
  WHERE state IN ('completed', 'discarded', 'cancelled');

CREATE INDEX {{schema}}jobs_batch_idx ON {{schema}}jobs (batch_id, batch_index)
  WHERE batch_id IS NOT NULL;

CREATE INDEX {{schema}}jobs_limited_claim_idx ON {{schema}}jobs (queue, concurrency_key, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable') AND (concurrency_key IS NOT NULL OR rate_key IS NOT NULL);

CREATE INDEX {{schema}}jobs_keyed_running_idx ON {{schema}}jobs (queue, concurrency_key)
  WHERE state = 'running' AND concurrency_key IS NOT NULL;

-- One row per (dependent, parent); found by parent when a parent finishes.
CREATE TABLE {{schema}}job_deps (
  job_id INTEGER NOT NULL,
  parent_id INTEGER NOT NULL,
  PRIMARY KEY (job_id, parent_id)
) WITHOUT ROWID;

CREATE INDEX {{schema}}job_deps_parent_idx ON {{schema}}job_deps (parent_id, job_id);

-- Waiting jobs, for counts by queue (statistics); empty while no job uses dependencies.
CREATE INDEX {{schema}}jobs_waiting_idx ON {{schema}}jobs (queue) WHERE state = 'waiting';

-- A parent with dependents reached a final state, or was deleted before it did: the first two
-- triggers only note it in job_settle (a small trigger program: every statement that finishes a
-- job sets finished_at and so runs the first one's program for each row, and SQLite's cost for
-- that grows with the program); job_settle's trigger does the work and removes the note. It
-- cancels the dependents that do not run after a failed parent (unless it completed), then
-- releases every waiting dependent whose parents have all finished as it asks (completed; or, for
-- 'run', discarded or cancelled too; a deleted parent counts as finished). A cancelled dependent
-- fires the first trigger in turn (recursive triggers are on for tend's connections), so a
-- cancellation runs down the whole tree.
CREATE TABLE {{schema}}job_settle (
  parent_id INTEGER NOT NULL,
  state TEXT NOT NULL,
  at INTEGER NOT NULL
);

CREATE TRIGGER {{schema}}jobs_settle_dependents AFTER UPDATE OF finished_at ON {{schema}}jobs
  WHEN NEW.has_dependents = 1 AND NEW.state IN ('completed', 'discarded', 'cancelled')
    AND OLD.state NOT IN ('completed', 'discarded', 'cancelled')
BEGIN
  INSERT INTO {{schema}}job_settle (parent_id, state, at) VALUES (NEW.id, NEW.state, NEW.finished_at);
END;

-- A deleted job: its own dependency rows go; a parent deleted before it finished fails its
-- waiting dependents as a cancelled one would (or lets them run, for 'run').
CREATE TRIGGER {{schema}}jobs_delete_dependencies AFTER DELETE ON {{schema}}jobs
  WHEN OLD.has_dependents = 1 OR OLD.on_parent_failure IS NOT NULL
BEGIN
  DELETE FROM {{schema}}job_deps WHERE OLD.on_parent_failure IS NOT NULL AND job_id = OLD.id;
  INSERT INTO {{schema}}job_settle (parent_id, state, at)
    SELECT OLD.id, 'deleted', CAST(unixepoch('subsec') * 1000 AS INTEGER)
     WHERE OLD.has_dependents = 1 AND OLD.state NOT IN ('completed', 'discarded', 'cancelled');
END;

CREATE TRIGGER {{schema}}job_settle_run AFTER INSERT ON {{schema}}job_settle
BEGIN
  UPDATE {{schema}}jobs SET state = 'cancelled', finished_at = NEW.at,
      errors = json_insert(errors, '$[#]', json_object('attempt', attempt,
        'at', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.at / 1000.0, 'unixepoch'),
        'message', 'parent job ' || NEW.parent_id || ' was ' || NEW.state,
        'code', 'TEND_E_JOB_PARENT_FAILED'))
    WHERE NEW.state <> 'completed' AND state = 'waiting' AND on_parent_failure = 'cancel'
      AND id IN (SELECT job_id FROM {{schema}}job_deps WHERE parent_id = NEW.parent_id);
  UPDATE {{schema}}jobs SET state = CASE WHEN run_at > NEW.at THEN 'scheduled' ELSE 'available' END
    WHERE state = 'waiting' AND id IN (SELECT job_id FROM {{schema}}job_deps WHERE parent_id = NEW.parent_id)
      AND NOT EXISTS (
        SELECT 1 FROM {{schema}}job_deps x JOIN {{schema}}jobs p ON p.id = x.parent_id
         WHERE x.job_id = {{schema}}jobs.id AND p.state <> 'completed'
           AND (p.state NOT IN ('discarded', 'cancelled') OR {{schema}}jobs.on_parent_failure <> 'run'));
  DELETE FROM {{schema}}job_settle WHERE rowid = NEW.rowid;
END;
`,
  },
  {
    component: "jobs",
    version: 7,
    name: "jobs: queue limits (concurrency, rate), rate_windows.window_end (pruning), cron_entries.last_seen_at",
    // Nullable columns older code never reads or writes: every 0.x binary works on it (it ignores
    // queue limits).
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}queues ADD COLUMN concurrency_limit INTEGER;
ALTER TABLE {{schema}}queues ADD COLUMN rate_limit INTEGER;
ALTER TABLE {{schema}}queues ADD COLUMN rate_period_ms INTEGER;
ALTER TABLE {{schema}}cron_entries ADD COLUMN last_seen_at INTEGER;
ALTER TABLE {{schema}}rate_windows ADD COLUMN window_end INTEGER;
`,
  },
  {
    component: "jobs",
    version: 8,
    name: "jobs: retryable index (queue, run_at), for counting waiting retries without reading rows",
    // An index older code never names: every 0.x binary works on it. Written only when a job
    // enters or leaves the retryable state (a failed attempt), never by enqueue or completion.
    compatibleFrom: "0.1.0",
    sql: `
CREATE INDEX {{schema}}jobs_retryable_idx ON {{schema}}jobs (queue, run_at)
  WHERE state = 'retryable';
`,
  },
  {
    component: "jobs",
    version: 9,
    name: "jobs: unstarted_losses, the times a rescue returned the job claimed ahead and never started",
    // A column with a constant default that older code never names: every 0.x binary works on
    // it. A job with such returns behind it is started carefully (see the worker's careful start).
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}jobs ADD COLUMN unstarted_losses INTEGER NOT NULL DEFAULT 0;
`,
  },
];

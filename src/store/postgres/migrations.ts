import type { Migration } from "../migration.ts";

/**
 * The jobs tables on PostgreSQL. `{{schema}}` is replaced by the quoted schema name.
 *
 * Index design (every claim and completion is a non-HOT update, so each index that the new row
 * version qualifies for gets a new entry; keep them few and partial):
 * - claim: (queue, priority, run_at, id) over pending rows only, matching the claim query exactly;
 * - running: (lease_expires_at) over running rows; it also serves rescue of one worker's jobs and
 *   running counts, since running rows are few (bounded by concurrency);
 * - unique: unique_key over the blocking states;
 * - finished: (finished_at) over final rows, for pruning and the completed rate;
 * - retryable: (queue, run_at) over retryable rows (version 8): with the claim index, the queue
 *   statistics count every pending state from index entries alone, never reading a row;
 * - batch: batch_id where set.
 * The enqueued rate needs no index of its own: ids grow with time (see stats.ts).
 *
 * @example
 * ```ts
 * const sql = JOBS_MIGRATIONS[0]!.sql.replaceAll("{{schema}}", '"tend"');
 * ```
 */
export const JOBS_MIGRATIONS: Migration[] = [
  {
    component: "jobs",
    version: 1,
    name: "jobs: jobs and cron tables, claim/lease/unique/finished/batch indexes, insert notification",
    compatibleFrom: "0.1.0",
    sql: `
CREATE SEQUENCE {{schema}}.jobs_id_seq AS bigint;

CREATE TABLE {{schema}}.jobs (
  id bigint NOT NULL DEFAULT nextval('{{schema}}.jobs_id_seq') PRIMARY KEY,
  kind text NOT NULL,
  queue text NOT NULL,
  payload jsonb NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  state text NOT NULL CHECK (state IN ('scheduled', 'available', 'running', 'completed', 'retryable', 'discarded', 'cancelled')),
  run_at timestamptz NOT NULL DEFAULT now(),
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  unique_key text,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  worker_id text,
  lease_token text,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  batch_id text,
  batch_index integer
) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

ALTER SEQUENCE {{schema}}.jobs_id_seq OWNED BY {{schema}}.jobs.id;

CREATE INDEX jobs_claim_idx ON {{schema}}.jobs (queue, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable');

CREATE INDEX jobs_running_idx ON {{schema}}.jobs (lease_expires_at)
  WHERE state = 'running';

CREATE UNIQUE INDEX jobs_unique_key_idx ON {{schema}}.jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable');

CREATE INDEX jobs_finished_idx ON {{schema}}.jobs (finished_at)
  WHERE state IN ('completed', 'discarded', 'cancelled');

CREATE INDEX jobs_batch_idx ON {{schema}}.jobs (batch_id, batch_index)
  WHERE batch_id IS NOT NULL;

CREATE TABLE {{schema}}.cron (
  name text PRIMARY KEY,
  last_tick timestamptz NOT NULL
);

-- One notification per queue that received runnable jobs, per statement; sent at commit, so jobs
-- inserted inside a caller's transaction wake workers only once they exist for everyone.
CREATE FUNCTION {{schema}}.jobs_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.jobs', q.queue)
    FROM (SELECT DISTINCT queue FROM new_rows WHERE state = 'available') AS q;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER jobs_notify_insert AFTER INSERT ON {{schema}}.jobs
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.jobs_notify_insert();
`,
  },
  {
    component: "jobs",
    version: 2,
    name: "jobs: lost and max_lost, for the discard of poison jobs",
    compatibleFrom: "0.1.0",
    // A constant default: PostgreSQL adds both columns without rewriting the table.
    sql: `
ALTER TABLE {{schema}}.jobs
  ADD COLUMN lost integer NOT NULL DEFAULT 0,
  ADD COLUMN max_lost integer NOT NULL DEFAULT 3;
`,
  },
  {
    component: "jobs",
    version: 3,
    name: "jobs: trace_context, the enqueuer's W3C trace context",
    // A nullable column older code never reads or writes: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    // Nullable without a default: a catalogue-only change, no table rewrite.
    sql: `
ALTER TABLE {{schema}}.jobs ADD COLUMN trace_context text;
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
CREATE TABLE {{schema}}.queues (
  name text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {{schema}}.rate_windows (
  bucket text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  started integer NOT NULL
);

ALTER TABLE {{schema}}.jobs
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency_limit integer,
  ADD COLUMN rate_key text,
  ADD COLUMN rate_limit integer,
  ADD COLUMN rate_period_ms integer;

-- Pending jobs under a key or a rate limit, walked key by key by the limited claim; empty (and
-- free to probe) while no job uses either.
CREATE INDEX jobs_limited_claim_idx ON {{schema}}.jobs (queue, concurrency_key, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable') AND (concurrency_key IS NOT NULL OR rate_key IS NOT NULL);

CREATE INDEX jobs_keyed_running_idx ON {{schema}}.jobs (queue, concurrency_key)
  WHERE state = 'running' AND concurrency_key IS NOT NULL;
`,
  },
  {
    component: "jobs",
    version: 5,
    name: "jobs: progress, cron last_job_id and the cron_entries table (overlap, pause)",
    // Nullable columns and a new table that older code never reads or writes: every 0.x binary works on it.
    compatibleFrom: "0.1.0",
    // Nullable without defaults: catalogue-only changes, no table rewrite.
    sql: `
ALTER TABLE {{schema}}.jobs ADD COLUMN progress jsonb;
ALTER TABLE {{schema}}.cron ADD COLUMN last_job_id bigint;

CREATE TABLE {{schema}}.cron_entries (
  name text PRIMARY KEY,
  kind text NOT NULL,
  expression text NOT NULL,
  timezone text,
  overlap text NOT NULL DEFAULT 'skip',
  paused boolean NOT NULL DEFAULT false,
  registered_at timestamptz NOT NULL DEFAULT now(),
  skipped bigint NOT NULL DEFAULT 0,
  last_skipped_at timestamptz
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
    // The new columns have constant defaults (no table rewrite); the state CHECK is replaced, which
    // scans the table once.
    sql: `
ALTER TABLE {{schema}}.jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE {{schema}}.jobs ADD CONSTRAINT jobs_state_check
  CHECK (state IN ('scheduled', 'available', 'running', 'completed', 'retryable', 'discarded', 'cancelled', 'waiting'));

ALTER TABLE {{schema}}.jobs
  ADD COLUMN has_dependents boolean NOT NULL DEFAULT false,
  ADD COLUMN on_parent_failure text;

-- One row per (dependent, parent); found by parent when a parent finishes.
CREATE TABLE {{schema}}.job_deps (
  job_id bigint NOT NULL,
  parent_id bigint NOT NULL,
  PRIMARY KEY (job_id, parent_id)
);

CREATE INDEX job_deps_parent_idx ON {{schema}}.job_deps (parent_id, job_id);

-- Waiting jobs, for counts by queue (statistics); empty while no job uses dependencies.
CREATE INDEX jobs_waiting_idx ON {{schema}}.jobs (queue) WHERE state = 'waiting';

-- A parent with dependents reached a final state (or was deleted before it did): cancel the
-- dependents that do not run after a failed parent (unless it completed), then release every
-- waiting dependent whose parents have all finished as it asks (completed; or, for 'run',
-- discarded or cancelled too; a deleted parent counts as finished), and wake their queues and
-- the waiters of batches whose jobs were cancelled. The dependents are locked first, so that two
-- parents finishing at once in two transactions cannot both miss the other's completion: the
-- second waits for the first to commit, then sees it. A cancelled dependent fires this trigger in
-- turn, so a cancellation runs down the whole tree.
CREATE FUNCTION {{schema}}.jobs_settle_dependents() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  v_parent bigint;
  v_state text;
  v_failed boolean;
  q record;
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.on_parent_failure IS NOT NULL THEN
      DELETE FROM {{schema}}.job_deps d WHERE d.job_id = OLD.id;
    END IF;
    IF NOT OLD.has_dependents OR OLD.state IN ('completed', 'discarded', 'cancelled') THEN
      RETURN NULL;
    END IF;
    v_parent := OLD.id;
    v_state := 'deleted';
    v_failed := true;
  ELSE
    v_parent := NEW.id;
    v_state := NEW.state;
    v_failed := NEW.state <> 'completed';
  END IF;
  PERFORM 1 FROM {{schema}}.jobs j
    WHERE j.id IN (SELECT d.job_id FROM {{schema}}.job_deps d WHERE d.parent_id = v_parent) AND j.state = 'waiting'
    ORDER BY j.id FOR UPDATE;
  IF v_failed THEN
    FOR q IN
      WITH cancelled AS (
        UPDATE {{schema}}.jobs j SET state = 'cancelled', finished_at = now(),
            errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt,
              'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'message', 'parent job ' || v_parent || ' was ' || v_state,
              'code', 'TEND_E_JOB_PARENT_FAILED'))
          WHERE j.id IN (SELECT d.job_id FROM {{schema}}.job_deps d WHERE d.parent_id = v_parent)
            AND j.state = 'waiting' AND j.on_parent_failure = 'cancel'
          RETURNING j.batch_id)
      SELECT DISTINCT c.batch_id FROM cancelled c WHERE c.batch_id IS NOT NULL
    LOOP
      PERFORM pg_notify(TG_TABLE_SCHEMA || '.batch', q.batch_id);
    END LOOP;
  END IF;
  FOR q IN
    WITH released AS (
      UPDATE {{schema}}.jobs j SET state = CASE WHEN j.run_at > now() THEN 'scheduled' ELSE 'available' END
        WHERE j.id IN (SELECT d.job_id FROM {{schema}}.job_deps d WHERE d.parent_id = v_parent)
          AND j.state = 'waiting'
          AND NOT EXISTS (
            SELECT 1 FROM {{schema}}.job_deps x JOIN {{schema}}.jobs p ON p.id = x.parent_id
             WHERE x.job_id = j.id AND p.state <> 'completed'
               AND (p.state NOT IN ('discarded', 'cancelled') OR j.on_parent_failure <> 'run'))
        RETURNING j.queue, j.state)
    SELECT DISTINCT r.queue FROM released r WHERE r.state = 'available'
  LOOP
    PERFORM pg_notify(TG_TABLE_SCHEMA || '.jobs', q.queue);
  END LOOP;
  RETURN NULL;
END
$fn$;

-- Every statement that finishes a job sets finished_at; claims, which do not, skip the trigger.
CREATE TRIGGER jobs_settle_dependents AFTER UPDATE OF finished_at ON {{schema}}.jobs
  FOR EACH ROW
  WHEN (NEW.has_dependents AND NEW.state IN ('completed', 'discarded', 'cancelled')
    AND OLD.state NOT IN ('completed', 'discarded', 'cancelled'))
  EXECUTE FUNCTION {{schema}}.jobs_settle_dependents();

CREATE TRIGGER jobs_delete_dependencies AFTER DELETE ON {{schema}}.jobs
  FOR EACH ROW
  WHEN (OLD.has_dependents OR OLD.on_parent_failure IS NOT NULL)
  EXECUTE FUNCTION {{schema}}.jobs_settle_dependents();
`,
  },
  {
    component: "jobs",
    version: 7,
    name: "jobs: queue limits (concurrency, rate), rate_windows.window_end (pruning), cron_entries.last_seen_at",
    // Nullable columns older code never reads or writes: every 0.x binary works on it (it ignores
    // queue limits).
    compatibleFrom: "0.1.0",
    // Nullable without defaults: catalogue-only changes, no table rewrite.
    sql: `
ALTER TABLE {{schema}}.queues
  ADD COLUMN concurrency_limit integer,
  ADD COLUMN rate_limit integer,
  ADD COLUMN rate_period_ms integer;
ALTER TABLE {{schema}}.cron_entries ADD COLUMN last_seen_at timestamptz;
ALTER TABLE {{schema}}.rate_windows ADD COLUMN window_end timestamptz;
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
CREATE INDEX jobs_retryable_idx ON {{schema}}.jobs (queue, run_at)
  WHERE state = 'retryable';
`,
  },
  {
    component: "jobs",
    version: 9,
    name: "jobs: created_at from the insert's clock (clock_timestamp), in the order of ids",
    // now() is the transaction's start: a job enqueued late in a long caller transaction got a
    // later id but an earlier created_at than jobs enqueued meanwhile outside it, and lists that
    // turn a time range into a range of ids missed it. A default only: every 0.x binary works on
    // it, and no row is rewritten.
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}.jobs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
`,
  },
  {
    component: "jobs",
    version: 10,
    name: "jobs: unstarted_losses, the times a rescue returned the job claimed ahead and never started",
    // A column with a constant default (no rewrite) that older code never names: every 0.x
    // binary works on it. A job with such returns behind it is started carefully: its handler
    // runs only once its start (and the worker's writes before it) are durable, so that a handler
    // that blocks its worker at once is counted toward maxLost (see the worker's careful start).
    compatibleFrom: "0.1.0",
    sql: `
ALTER TABLE {{schema}}.jobs ADD COLUMN unstarted_losses integer NOT NULL DEFAULT 0;
`,
  },
];

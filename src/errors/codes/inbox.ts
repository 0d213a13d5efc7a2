/**
 * Error codes of the inbox part (see docs/errors.md and docs/inbox.md). Keys are the codes; values
 * their meaning.
 *
 * @example
 * ```ts
 * if (isTendError(err, "TEND_E_INBOX_CROSS_DEVICE")) console.error(INBOX_CODES.TEND_E_INBOX_CROSS_DEVICE);
 * ```
 */
export const INBOX_CODES = {
  TEND_E_INBOX_OPTIONS: "The inbox options are not an object, or `watch` is not true or false.",
  TEND_E_INBOX_DIR:
    "An inbox folder option (dir, outDir, processingDir, doneDir, failedDir) is not a non-empty string.",
  TEND_E_INBOX_PROCESS: "The inbox `process` option is not a function.",
  TEND_E_INBOX_CONCURRENCY: "The inbox `concurrency` is not a positive integer.",
  TEND_E_INBOX_RETRIES: "The inbox `retries` is not a non-negative integer.",
  TEND_E_INBOX_DURATION:
    'An inbox duration option is not a non-negative duration (milliseconds or a string like "5s").',
  TEND_E_INBOX_MATCH: "The inbox `match` is not a glob string, an array of globs, a RegExp or a function.",
  TEND_E_INBOX_ON_DONE: 'The inbox `onDone` is not "move" or "delete".',
  TEND_E_INBOX_NAME: "The inbox `name` is not a non-empty string.",
  TEND_E_INBOX_FOLDER_CONFLICT:
    "Two inbox folder roles (inbox, outputs, processing, done, failed) point at the same folder.",
  TEND_E_INBOX_CROSS_DEVICE:
    "The inbox, processing, done and failed folders are not all on one filesystem, so claims could not be atomic renames.",
  TEND_E_INBOX_FOLDER_UNUSABLE: "An inbox folder could not be created or is not a folder.",
  TEND_E_INBOX_FOLDER_GONE:
    "Inbox folders were deleted while the inbox ran and could not be recreated within `folderTimeout`; the inbox task failed.",
  TEND_E_INBOX_FOLDER_REPLACED:
    "An inbox's output, done or failed folder was replaced while the inbox ran (by a symbolic link or another folder); nothing is written through it.",
  TEND_E_INBOX_ALREADY_RUNNING: "run() was called on an inbox that is already running.",
  TEND_E_INBOX_FAILED_FILE_NOT_FOUND:
    "A failed file to retry is not in the inbox's failed folder (retried or moved already, or not a failed file's name).",
  TEND_E_INBOX_RETRY_CONFLICT:
    "A failed file could not be moved back into its inbox: a file of that name is already there (nothing was replaced).",
  TEND_E_INBOX_OUTPUT_NAME:
    "A name given to writeOutput() is not a plain file name (empty, dot-leading, a path, control characters or too long).",
  TEND_E_INBOX_OUTPUT_DATA:
    "The data given to writeOutput() is not a string, a Uint8Array or an (async) iterable of them.",
  TEND_E_INBOX_OUTPUT_CLOSED: "writeOutput() was called after the attempt it belongs to had ended.",
  TEND_E_INBOX_TIMEOUT:
    "Processing one file took longer than the inbox `timeout` (recorded in the failed file's sidecar).",
  TEND_E_INBOX_NOT_A_FILE:
    "An entry in the inbox is not a regular file (a symlink, FIFO, socket or device) and was moved to failed/.",
  TEND_E_INBOX_UNDECODABLE_NAME:
    "An inbox entry's name is not valid UTF-8; it was moved to failed/ under a safe name.",
} as const satisfies Record<`TEND_E_${string}`, string>;

/** A code of the inbox part. */
export type InboxCode = keyof typeof INBOX_CODES;

/**
 * The inbox part: folders whose complete files are claimed once, processed, and moved to done/
 * or failed/. See docs/inbox.md. This file is the part's face towards the rest of tend
 * (src/index.ts re-exports it); everything else in this folder is internal.
 */
export { createInbox, type Inbox } from "./inbox.ts";
export type { InboxContext, InboxCounters, InboxFile, InboxOptions, ProcessFile } from "./types.ts";
export type { InboxFileObservation, InboxObserver } from "./observer.ts";
export { type FailedFile, listFailedFiles, retryFailedFile } from "./failed-files.ts";

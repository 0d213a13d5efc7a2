export { INBOX_CODES, type InboxCode } from "../errors/codes/inbox.ts";
export { createInbox, type Inbox } from "./inbox.ts";
export { compileMatch, globToRegExpSource, type MatchOption } from "./match.ts";
export { assertOutputName, isTemporaryName, outputNameProblem } from "./names.ts";
export { type ResolvedInboxOptions, resolveInboxOptions, retryDelayMs } from "./options.ts";
export { type LivenessFacts, type OwnerId, ownerIsAlive, parseOwner } from "./owner.ts";
export { type FileSignature, msUntilSettled, observeFile, type SettleState } from "./settle.ts";
export type { AttemptRecord, FailureRecord } from "./sidecar.ts";
export type {
  InboxContext,
  InboxCounters,
  InboxDeps,
  InboxFile,
  InboxOptions,
  OutputData,
  ProcessFile,
} from "./types.ts";

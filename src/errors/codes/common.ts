/**
 * Error codes every part throws the same way (see docs/errors.md). Keys are the codes; values
 * their meaning.
 *
 * @example
 * ```ts
 * console.log(COMMON_CODES.TEND_E_UNKNOWN_OPTION);
 * ```
 */
export const COMMON_CODES = {
  TEND_E_UNKNOWN_OPTION:
    "An options object names a key the entry point does not accept (often a typo); the message names the key, where it was given, the accepted keys and the one probably meant.",
  TEND_E_UNREADABLE_OPTIONS:
    "An options object cannot be read (a revoked Proxy, a Proxy trap that throws when its keys are listed or an option is read, or a getter that throws), at an entry point that has no options code of its own; `enqueueMany` and `batch` name the item.",
} as const satisfies Record<`TEND_E_${string}`, string>;

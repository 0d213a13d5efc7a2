// Type only: the catalogue's values (a few dozen kB of text) are evaluated only by the public entry
// (src/index.ts), the tests and the docs script, never at a program's start through the parts.
export type { ErrorCode } from "./catalogue.ts";
export {
  describeValue,
  invalidArgument,
  isArrayValue,
  isInstance,
  isRevokedProxy,
  isTendError,
  readOr,
  TendError,
} from "./tend-error.ts";
export { closestKey, editDistance, optionKeys, rejectUnknownKeys } from "./unknown-option.ts";
export {
  checkBoolean,
  checkDate,
  checkFunction,
  checkInteger,
  checkLogger,
  checkNumber,
  checkObject,
  checkOneOf,
  checkPositiveNumber,
  checkSignal,
  checkString,
} from "./validate.ts";

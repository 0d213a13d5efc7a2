export { ERROR_CODES, type ErrorCode } from "./catalogue.ts";
export { describeValue, invalidArgument, isTendError, TendError } from "./tend-error.ts";
export { closestKey, editDistance, optionKeys, rejectUnknownKeys } from "./unknown-option.ts";
export {
  checkBoolean,
  checkDate,
  checkFunction,
  checkInteger,
  checkNumber,
  checkObject,
  checkOneOf,
  checkPositiveNumber,
  checkString,
} from "./validate.ts";

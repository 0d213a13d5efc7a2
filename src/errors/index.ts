export { ERROR_CODES, type ErrorCode } from "./catalogue.ts";
export { describeValue, invalidArgument, isTendError, TendError } from "./tend-error.ts";

export { flushLogger } from "./flush.ts";
export { createLogger, type Logger, type LoggerSettings } from "./logger.ts";

export { createLogger, type Logger, type LoggerSettings } from "./logger.ts";

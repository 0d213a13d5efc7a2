import { createTraceState, isSpanContextValid, type SpanContext } from "@opentelemetry/api";

/**
 * Pure: the W3C trace context of a span as stored with a job: the `traceparent` header value,
 * then a space and the `tracestate` when there is one; null for an invalid (no-op) span.
 *
 * @example
 * ```ts
 * formatTraceContext(span.spanContext()); // "00-4bf9...-00f0...-01"
 * ```
 */
export function formatTraceContext(context: SpanContext): string | null {
  if (!isSpanContextValid(context)) return null;
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  const parent = `00-${context.traceId}-${context.spanId}-${flags}`;
  const state = context.traceState?.serialize() ?? "";
  return state === "" ? parent : `${parent} ${state}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Pure: the remote span context stored by {@link formatTraceContext}, or null for text that is
 * not one (a job stored by something else must not fail its attempt).
 *
 * @example
 * ```ts
 * parseTraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceId;
 * ```
 */
export function parseTraceContext(text: string | null): SpanContext | null {
  if (text === null || text === "") return null;
  const space = text.indexOf(" ");
  const parent = space === -1 ? text : text.slice(0, space);
  const m = TRACEPARENT.exec(parent);
  if (m === null) return null;
  const context: SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: Number.parseInt(m[3]!, 16),
    isRemote: true,
  };
  if (space !== -1) context.traceState = createTraceState(text.slice(space + 1));
  return isSpanContextValid(context) ? context : null;
}

/**
 * Input checks shared by every room. Each throws a TypeError (wrong type) or a
 * RangeError (wrong value) that names the field, before any socket is opened.
 *
 * @module
 */

import type { Family } from "./types.ts";

/** A short description of a bad value, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return String(value);
}

/** Throws unless `value` is a non-null object (the options bag of a call). */
export function requireObject(value: unknown, field = "options"): asserts value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`${field} must be an object, got ${describe(value)}`);
  }
}

/** Throws unless `value` is 4 or 6. */
export function requireFamily(value: unknown, field: string): asserts value is Family {
  if (value !== 4 && value !== 6) throw new RangeError(`${field} must be 4 or 6, got ${describe(value)}`);
}

/** Throws unless `ms` is a finite number ≥ 0. */
export function requireDelay(ms: unknown, field: string): asserts ms is number {
  if (typeof ms !== "number") {
    throw new TypeError(`${field} must be a number of milliseconds, got ${describe(ms)}`);
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${field} must be a finite number ≥ 0, got ${ms}`);
  }
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function requireInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`${field} must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`${field} must be an integer ${range}, got ${value}`);
  }
}

/** Throws unless `value` is a valid TCP port (1 to 65535). */
export function requirePort(value: unknown, field = "port"): asserts value is number {
  requireInteger(value, field, 1, 65535);
}

/** Throws unless `value` is a function (or undefined when optional). */
export function requireFunction(value: unknown, field: string): void {
  if (typeof value !== "function") {
    throw new TypeError(`${field} must be a function, got ${describe(value)}`);
  }
}

/**
 * Throws unless `value` is an AbortSignal. One that has already fired is
 * valid: the call then rejects with its reason, as `fetch`, `Deno.connect`
 * and `net.connect` do.
 */
export function requireSignal(value: unknown, field = "signal"): asserts value is AbortSignal {
  const signal = value as AbortSignal;
  if (
    typeof value !== "object" || value === null || typeof signal.aborted !== "boolean" ||
    typeof signal.addEventListener !== "function"
  ) {
    throw new TypeError(`${field} must be an AbortSignal, got ${describe(value)}`);
  }
}

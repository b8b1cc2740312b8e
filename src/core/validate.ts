/**
 * Input checks. Each throws a TypeError (wrong type) or a RangeError (wrong
 * value) that names the field, before any socket is opened.
 *
 * @module
 */

import { type IpLiteral, parseIp } from "./ip.ts";
import { parseNat64Prefix } from "./nat64.ts";
import type { ConnectOptions } from "./connect.ts";
import type { Dialer, Family, Resolver } from "./types.ts";
import type { History } from "./history.ts";

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

/** Either an IP literal (resolution is skipped) or a DNS name to resolve. */
export type Host = { literal: IpLiteral; name?: undefined } | { literal?: undefined; name: string };

const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/**
 * Checks a hostname: an IP literal (IPv6 optionally in brackets) or a DNS
 * name of at most 253 characters whose labels are 1 to 63 letters, digits,
 * `-` or `_`, not starting or ending with `-`. A trailing dot is allowed.
 */
export function requireHost(value: unknown, field = "hostname"): Host {
  if (typeof value !== "string") {
    throw new TypeError(`${field} must be a string, got ${describe(value)}`);
  }
  if (value === "") throw new RangeError(`${field} must not be empty`);
  const literal = parseIp(value);
  if (literal) return { literal };
  if (value.includes("%")) {
    throw new RangeError(`${field} ${describe(value)}: IPv6 zone identifiers are not supported`);
  }
  if (value.includes(":") || value.startsWith("[")) {
    throw new RangeError(`${field} ${describe(value)} is not a valid IPv6 address`);
  }
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  if (name.length > 253) {
    throw new RangeError(`${field} is ${name.length} characters long; the limit is 253`);
  }
  const bad = name.split(".").find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    const why = bad === ""
      ? "has an empty label"
      : bad.length > 63
      ? `has a label of ${bad.length} characters (the limit is 63)`
      : /[^\x00-\x7f]/.test(bad)
      ? `has a non-ASCII label ${describe(bad)}; use its punycode (xn--) form`
      : `has an invalid label ${describe(bad)}`;
    throw new RangeError(`${field} ${describe(value)} ${why}`);
  }
  if (/^[\d.]+$/.test(name)) {
    throw new RangeError(`${field} ${describe(value)} is not a valid IPv4 address`);
  }
  return { name };
}

/**
 * Checks every field of `connect`'s options that is set, naming the bad one;
 * defaults are filled in by `connect`. The host is named `hostField`, as the
 * caller spelled it (`host` for the Node adapter). Returns the parsed host.
 */
export function checkConnectOptions<Conn>(options: ConnectOptions<Conn>, hostField = "hostname"): Host {
  requireObject(options);
  const host = requireHost(options.hostname, hostField);
  requirePort(options.port);
  const dialer = options.dialer as Partial<Dialer<Conn>> | undefined;
  if (typeof dialer !== "object" || dialer === null) {
    throw new TypeError(`dialer must be an object with dial() and close(), got ${describe(dialer)}`);
  }
  requireFunction(dialer.dial, "dialer.dial");
  requireFunction(dialer.close, "dialer.close");
  if (!host.literal) {
    const resolver = options.resolver as Partial<Resolver> | undefined;
    if (typeof resolver !== "object" || resolver === null) {
      throw new TypeError(`resolver is required to resolve ${describe(options.hostname)}, got ${describe(resolver)}`);
    }
    requireFunction(resolver.resolve, "resolver.resolve");
  }
  if (options.schedule !== undefined) requireFunction(options.schedule, "schedule");
  if (options.resolutionDelay !== undefined) requireDelay(options.resolutionDelay, "resolutionDelay");
  if (options.firstAddressFamilyCount !== undefined) {
    requireInteger(options.firstAddressFamilyCount, "firstAddressFamilyCount", 1, Infinity);
  }
  if (options.maxAttemptsInFlight !== undefined) {
    requireInteger(options.maxAttemptsInFlight, "maxAttemptsInFlight", 1, Infinity);
  }
  if (options.preferredFamily !== undefined) requireFamily(options.preferredFamily, "preferredFamily");
  if (options.family !== undefined) requireFamily(options.family, "family");
  if (options.timeout !== undefined) {
    requireDelay(options.timeout, "timeout");
    if (options.timeout === 0) throw new RangeError("timeout must be > 0 (omit it for no timeout)");
  }
  if (options.signal !== undefined) requireSignal(options.signal);
  if (options.onEvent !== undefined) requireFunction(options.onEvent, "onEvent");
  if (options.clock !== undefined) {
    requireFunction(options.clock?.now, "clock.now");
    requireFunction(options.clock?.setTimer, "clock.setTimer");
  }
  if (options.history !== undefined && options.history !== false) {
    const history = options.history as Partial<History> | null;
    if (typeof history !== "object" || history === null) {
      throw new TypeError(`history must be false or a store with lookup() and record(), got ${describe(history)}`);
    }
    requireFunction(history.lookup, "history.lookup");
    requireFunction(history.record, "history.record");
  }
  if (options.addressPolicy !== undefined) requireFunction(options.addressPolicy, "addressPolicy");
  if (options.nat64Prefix !== undefined && options.nat64Prefix !== false) parseNat64Prefix(options.nat64Prefix);
  if (host.literal && options.family !== undefined && host.literal.family !== options.family) {
    throw new RangeError(
      `${hostField} ${options.hostname} is IPv${host.literal.family} but family is ${options.family}`,
    );
  }
  return host;
}

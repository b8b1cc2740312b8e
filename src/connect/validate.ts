/**
 * The checks of a connect's host and options. Each throws a TypeError (wrong type) or a RangeError (wrong
 * value) that names the field, before any socket is opened.
 *
 * @module
 */

import { type IpLiteral, parseInetAton, parseIp } from "../addresses/ip.ts";
import { parseNat64Prefix } from "../addresses/nat64.ts";
import type { ConnectOptions } from "./options.ts";
import type { Dialer, Resolver } from "../base/types.ts";
import {
  describe,
  requireDelay,
  requireFamily,
  requireFunction,
  requireInteger,
  requireObject,
  requirePort,
  requireSignal,
} from "../base/checks.ts";
import type { History } from "../history/history.ts";

/** Either an IP literal (resolution is skipped) or a DNS name to resolve. */
export type Host = { literal: IpLiteral; name?: undefined } | { literal?: undefined; name: string };

const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;

/**
 * Checks a hostname: an IP literal (IPv6 optionally in brackets; IPv4 also
 * in the short, octal and hex forms getaddrinfo accepts) or a DNS
 * name of at most 253 characters whose labels are 1 to 63 letters, digits,
 * `-` or `_`, not starting or ending with `-`. A trailing dot is allowed
 * and kept: it makes the name absolute, so the resolver skips the search list.
 */
export function requireHost(value: unknown, field = "hostname"): Host {
  if (typeof value !== "string") {
    throw new TypeError(`${field} must be a string, got ${describe(value)}`);
  }
  if (value === "") throw new RangeError(`${field} must not be empty`);
  const literal = parseIp(value);
  if (literal) return { literal };
  const aton = parseInetAton(value);
  if (aton) return { literal: aton };
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
  // The name as given: a trailing dot makes it absolute (no search list), so the resolver must see it.
  return { name: value };
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
  if (options.alpn !== undefined) {
    const { alpn } = options;
    if (!Array.isArray(alpn)) throw new TypeError(`alpn must be an array of protocol ids, got ${describe(alpn)}`);
    for (const [i, id] of alpn.entries()) {
      if (typeof id !== "string" || id.length === 0 || id.length > 255) {
        throw new TypeError(`alpn[${i}] must be a protocol id of 1 to 255 characters, got ${describe(id)}`);
      }
    }
  }
  if (
    options.scheme !== undefined && (typeof options.scheme !== "string" || !/^[a-z][a-z0-9+.-]*$/i.test(options.scheme))
  ) {
    throw new TypeError(`scheme must be a URI scheme such as "https", got ${describe(options.scheme)}`);
  }
  // An own getter is not read: the adapters' reads the network id (milliseconds in a fresh process) and is for
  // history alone, which an IP literal or `history: false` never asks. Any other value is checked.
  const own = Object.getOwnPropertyDescriptor(options, "network");
  const network = own ? own.value : options.network;
  if (network !== undefined && typeof network !== "string") {
    throw new TypeError(`network must be a string, got ${describe(network)}`);
  }
  if (options.history !== undefined && options.history !== false) {
    const history = options.history as Partial<History> | null;
    if (typeof history !== "object" || history === null) {
      throw new TypeError(`history must be false or a store with lookup() and record(), got ${describe(history)}`);
    }
    requireFunction(history.lookup, "history.lookup");
    requireFunction(history.record, "history.record");
    if (history.networkRtt !== undefined) requireFunction(history.networkRtt, "history.networkRtt");
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

/**
 * Address selection and policy beyond the presets: RFC 6724 ordering, the
 * address classes behind `denyAddresses`, and NAT64 (RFC 6052, RFC 7050).
 * See docs/address-selection.md.
 *
 * @example
 * ```ts
 * import { classifyAddress } from "@eyeballs/connect/addresses";
 * classifyAddress("::ffff:127.0.0.1")?.category; // "loopback"
 * ```
 *
 * @module
 */

export {
  ADDRESS_CATEGORIES,
  type AddressCategory,
  type AddressClass,
  type AddressPolicy,
  classifyAddress,
  denyAddresses,
  type DenyOptions,
  INTERNAL_CATEGORIES,
  nat64Translatable,
  PolicyRefusal,
} from "./policy.ts";
export { AddressSelector, DEFAULT_POLICY_TABLE, type PolicyRow, type SourceAddress } from "./rfc6724.ts";
export {
  extractNat64,
  IPV4ONLY_ARPA,
  NAT64_PREFIX_LIFETIME,
  type Nat64Prefix,
  type Nat64PrefixLength,
  parseNat64Prefix,
  prefixOfIpv4OnlyAnswer,
  synthesizeNat64,
  WELL_KNOWN_NAT64_PREFIX,
} from "./nat64.ts";

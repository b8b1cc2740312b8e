/**
 * The CLI's view of HTTPS/SVCB records (RFC 9460), from synthetic events: the
 * timeline lines (records by group, alias followed, endpoints skipped,
 * records ignored, hints replaced), the live view's, and the JSON fields.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { failureRecord, formatTimeline, servicesRecord, successRecord } from "../../src/cli/format.ts";
import { renderLive } from "../../src/cli/live.ts";
import type { Attempt, ConnectEvent, ServiceRecord } from "../../src/base/types.ts";

const h2: ServiceRecord = {
  priority: 1,
  target: "svc.example",
  params: {
    alpn: ["h2"],
    noDefaultAlpn: false,
    port: 8443,
    ipv4hint: ["192.0.2.1"],
    ipv6hint: ["2001:db8::1"],
    ech: new Uint8Array([1, 2, 3]),
    unknown: [],
  },
};
const h3: ServiceRecord = {
  priority: 2,
  target: "quic.example",
  params: { alpn: ["h3"], noDefaultAlpn: true, unknown: [{ key: 9, value: new Uint8Array(2) }] },
};

const events: ConnectEvent[] = [
  {
    type: "service-records",
    atMs: 1.2,
    name: "svc.example",
    records: [h2, h3],
    skipped: [{ reason: "SvcParam keys out of order (4 after 6)" }],
  },
  {
    type: "endpoint-skipped",
    atMs: 1.3,
    target: "quic.example",
    priority: 2,
    reason: "no ALPN in common: the endpoint offers h3, the caller any protocol over TCP",
  },
  { type: "hints-replaced", atMs: 4.5, target: "svc.example", family: 4, dropped: ["192.0.2.1"] },
  { type: "hints-replaced", atMs: 4.6, target: "svc.example", family: 6, dropped: [] },
];
const won: Attempt = {
  index: 0,
  address: "2001:db8::1",
  family: 6,
  port: 8443,
  startMs: 1.4,
  endMs: 5,
  outcome: "won",
};

describe("CLI: HTTPS/SVCB records", () => {
  it("the timeline lists the records by group, the alias followed, what was ignored or skipped, and why", () => {
    const lines = formatTimeline(events, [won], "www.example");
    assert.deepEqual(lines, [
      "       1.2 ms  HTTPS records for svc.example (alias of www.example, followed): 2 records",
      "               group 1 (priority 1): svc.example alpn=h2 port=8443 ipv4hint=192.0.2.1 ech=(3 bytes) ipv6hint=2001:db8::1",
      "               group 2 (priority 2): quic.example alpn=h3 no-default-alpn key9=(2 bytes)",
      "               group 3: www.example's own A/AAAA answers (no record names it)",
      "               ignored: SvcParam keys out of order (4 after 6)",
      "       1.3 ms  HTTPS endpoint skipped: quic.example (priority 2): no ALPN in common: the endpoint offers h3, the caller any protocol over TCP",
      "       4.5 ms  hints for svc.example replaced by its A answer: dropped hint 192.0.2.1 (not in it)",
      "       4.6 ms  hints for svc.example replaced by its AAAA answer: every hint confirmed",
      "  #  start ms  end ms  address        outcome  reason",
      "  1       1.4     5.0  [2001:db8::1]  won",
    ]);
  });

  it("no usable record, and a failed lookup, say so", () => {
    const lines = formatTimeline(
      [{
        type: "service-records",
        atMs: 2,
        name: "a.example",
        records: [],
        skipped: [{ reason: "HTTPS/SVCB lookup failed: SERVFAIL" }],
      }],
      [],
      "a.example",
    );
    assert.deepEqual(lines, [
      "       2.0 ms  HTTPS records for a.example: none usable",
      "               ignored: HTTPS/SVCB lookup failed: SERVFAIL",
      "  no attempt was made",
    ]);
  });

  it("a record naming the host itself puts its own answers in that group: no extra group", () => {
    const self: ServiceRecord = { priority: 1, target: "a.example", params: { noDefaultAlpn: false, unknown: [] } };
    const lines = formatTimeline(
      [{ type: "service-records", atMs: 2, name: "a.example", records: [self], skipped: [] }],
      [],
      "A.example.",
    );
    assert.deepEqual(lines.slice(0, 2), [
      "       2.0 ms  HTTPS records for a.example: 1 record",
      "               group 1 (priority 1): a.example",
    ]);
  });

  it("the live view counts the records and names what was skipped or ignored", () => {
    assert.deepEqual(renderLive([...events, { type: "attempt-start", atMs: 1.4, attempt: won }], 3), [
      "  resolved HTTPS: 2 records, 1 ignored (3 ms)",
      "  HTTPS record ignored: SvcParam keys out of order (4 after 6)",
      "  HTTPS endpoint quic.example (priority 2) skipped: no ALPN in common: the endpoint offers h3, the caller any protocol over TCP",
      "  hints for svc.example dropped: 192.0.2.1",
      "  #1 [2001:db8::1]  pending  2 ms",
    ]);
  });

  it("--json carries the records, what was ignored or skipped, the hints replaced and the winner's endpoint", () => {
    const record = successRecord("www.example", 443, {
      address: "2001:db8::1",
      family: 6,
      ms: 5,
      attempts: [won],
      endpoint: { target: "svc.example", priority: 1, port: 8443, alpn: ["h2"], ech: new Uint8Array([1, 2, 3]) },
    }, events);
    const json = JSON.parse(JSON.stringify(record));
    assert.deepEqual(json.endpoint, { target: "svc.example", priority: 1, port: 8443, alpn: ["h2"], ech: "AQID" });
    assert.deepEqual(json.services, {
      atMs: 1.2,
      name: "svc.example",
      aliasOf: "www.example",
      records: [
        {
          priority: 1,
          target: "svc.example",
          alpn: ["h2"],
          port: 8443,
          ipv4hint: ["192.0.2.1"],
          ipv6hint: ["2001:db8::1"],
          ech: "AQID",
        },
        { priority: 2, target: "quic.example", alpn: ["h3"], noDefaultAlpn: true, unknownKeys: [9] },
      ],
      ignored: ["SvcParam keys out of order (4 after 6)"],
      skipped: [{
        target: "quic.example",
        priority: 2,
        reason: "no ALPN in common: the endpoint offers h3, the caller any protocol over TCP",
      }],
      hintsReplaced: [
        { target: "svc.example", family: 4, dropped: ["192.0.2.1"] },
        { target: "svc.example", family: 6, dropped: [] },
      ],
    });
    const failed = failureRecord("www.example", 443, new Error("nothing answered"), [], events);
    assert.deepEqual(failed.services, record.services);
  });

  it("without HTTPS events the JSON has no services field", () => {
    assert.equal(servicesRecord("h", [{ type: "resolved", atMs: 1, family: 4, addresses: ["192.0.2.1"] }]), undefined);
    const record = successRecord("h", 80, { address: "192.0.2.1", family: 4, ms: 1, attempts: [] }, []);
    assert.deepEqual(Object.keys(record).sort(), ["address", "attempts", "family", "host", "ms", "port"]);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseResolvConf, searchNames } from "../../src/dns/resolv_conf.ts";

describe("parseResolvConf", () => {
  it("reads nameservers (at most 3, canonical), search, and options", () => {
    const conf = parseResolvConf(
      [
        "# comment",
        "nameserver 192.0.2.53",
        "nameserver 2001:DB8:0::53 ; trailing comment",
        "nameserver fe80::1%eth0",
        "nameserver 192.0.2.54",
        "nameserver 192.0.2.55",
        "search corp.example. lab.example",
        "options timeout:1 attempts:9 ndots:2 rotate edns0 timeout:x",
      ].join("\n"),
    );
    assert.deepEqual(conf, {
      nameservers: ["192.0.2.53", "2001:db8::53", "192.0.2.54"],
      search: ["corp.example", "lab.example"],
      timeout: 1,
      attempts: 5,
      ndots: 2,
      rotate: true,
    });
  });
  it("defaults as glibc does: the local server, timeout 5, attempts 2, ndots 1", () => {
    assert.deepEqual(parseResolvConf(""), {
      nameservers: ["127.0.0.1", "::1"],
      search: [],
      timeout: 5,
      attempts: 2,
      ndots: 1,
      rotate: false,
    });
  });
  it("lets the last of domain and search win", () => {
    assert.deepEqual(parseResolvConf("search a.example\ndomain b.example\n").search, ["b.example"]);
  });
});

describe("searchNames", () => {
  const conf = { search: ["corp.example"], ndots: 1 };
  it("tries a dotted name as given first", () => {
    assert.deepEqual(searchNames("db.lab", conf), ["db.lab", "db.lab.corp.example"]);
  });
  it("tries a short name with the search domains first", () => {
    assert.deepEqual(searchNames("db", conf), ["db.corp.example", "db"]);
  });
  it("asks an absolute name only as given", () => {
    assert.deepEqual(searchNames("db.", conf), ["db"]);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostsLookup, parseHosts } from "../../src/dns/hosts_file.ts";

describe("hosts file", () => {
  const table = parseHosts(
    [
      "127.0.0.1 localhost",
      "::1 localhost ip6-localhost # comment",
      "192.0.2.7\tdb.lab  DB-alias",
      "192.0.2.8 db.lab",
      "192.0.2.7 db.lab",
      "2001:DB8::7 db.lab",
      "fe80::1%eth0 zoned",
      "not-an-ip broken",
      "# 192.0.2.9 commented",
    ].join("\n"),
  );
  it("keeps each family's addresses in file order, canonical, without duplicates", () => {
    assert.deepEqual(hostsLookup(table, "db.lab", 4), ["192.0.2.7", "192.0.2.8"]);
    assert.deepEqual(hostsLookup(table, "db.lab", 6), ["2001:db8::7"]);
  });
  it("matches names case-insensitively, aliases included; a trailing dot is part of the name (glibc's files)", () => {
    assert.deepEqual(hostsLookup(table, "db-ALIAS", 4), ["192.0.2.7"]);
    assert.equal(hostsLookup(table, "db-alias.", 4), undefined);
  });
  it("answers an empty list for a family the file does not list for a name it lists (a pin), undefined for the rest", () => {
    assert.deepEqual(hostsLookup(table, "ip6-localhost", 4), []);
    assert.equal(hostsLookup(table, "zoned", 6), undefined);
    assert.equal(hostsLookup(table, "broken", 4), undefined);
    assert.equal(hostsLookup(table, "commented", 4), undefined);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { AddressQueue, thenBy } from "../../src/race/queue.ts";

const drain = (queue: AddressQueue) => {
  const out: string[] = [];
  for (let t = queue.take(); t; t = queue.take()) out.push(t.address);
  return out;
};

describe("address order", () => {
  it("interleaves families, preferred first (First Address Family Count 1)", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1 });
    queue.add(4, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    queue.add(6, ["2001:db8::1", "2001:db8::2"]);
    assert.deepEqual(drain(queue), ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "192.0.2.3"]);
  });

  it("honours a First Address Family Count of 2", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 2 });
    queue.add(6, ["2001:db8::1", "2001:db8::2", "2001:db8::3"]);
    queue.add(4, ["192.0.2.1", "192.0.2.2"]);
    assert.deepEqual(drain(queue), ["2001:db8::1", "2001:db8::2", "192.0.2.1", "2001:db8::3", "192.0.2.2"]);
  });

  it("can prefer IPv4", () => {
    const queue = new AddressQueue(80, { preferredFamily: 4, firstAddressFamilyCount: 1 });
    queue.add(6, ["2001:db8::1"]);
    queue.add(4, ["192.0.2.1"]);
    assert.deepEqual(drain(queue), ["192.0.2.1", "2001:db8::1"]);
  });

  it("drops duplicates", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1 });
    queue.add(6, ["2001:db8::1", "2001:db8::1"]);
    queue.add(6, ["2001:db8::1"]); // a second answer with the same address
    queue.add(4, ["192.0.2.1", "192.0.2.1"]);
    assert.deepEqual(drain(queue), ["2001:db8::1", "192.0.2.1"]);
  });

  it("puts a late IPv6 answer next, ahead of the remaining IPv4 addresses", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1 });
    queue.add(4, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    assert.equal(queue.take()?.address, "192.0.2.1");
    assert.equal(queue.take()?.address, "192.0.2.2");
    queue.add(6, ["2001:db8::1"]);
    assert.deepEqual(drain(queue), ["2001:db8::1", "192.0.2.3"]);
  });

  it("tells listeners about additions and the end", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1 });
    let calls = 0;
    const unsubscribe = queue.onChange(() => calls++);
    queue.add(4, ["192.0.2.1"]);
    queue.add(4, ["192.0.2.1"]); // nothing new: no call
    queue.end();
    unsubscribe();
    assert.equal(calls, 2);
    assert.equal(queue.ended, true);
    assert.equal(queue.take()?.port, 80);
  });
});

describe("address order with a ranking", () => {
  // A toy ranking: addresses ending in ::2 or .2 first; everything else keeps its order.
  const rank = (a: string, b: string) => Number(!/[.:]2$/.test(a)) - Number(!/[.:]2$/.test(b));

  it("sorts each family by the ranking, ties in arrival order", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1, rank });
    queue.add(6, ["2001:db8::1", "2001:db8::3", "2001:db8::2"]);
    assert.deepEqual(drain(queue), ["2001:db8::2", "2001:db8::1", "2001:db8::3"]);
  });

  it("lets the other family lead when its head ranks better", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1, rank });
    queue.add(6, ["2001:db8::1", "2001:db8::3"]);
    queue.add(4, ["192.0.2.1", "192.0.2.2"]);
    assert.deepEqual(drain(queue), ["192.0.2.2", "2001:db8::1", "192.0.2.1", "2001:db8::3"]);
  });

  it("keeps the preferred family on a tie between the heads", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 2, rank });
    queue.add(4, ["192.0.2.1"]);
    queue.add(6, ["2001:db8::1", "2001:db8::3"]);
    assert.deepEqual(drain(queue), ["2001:db8::1", "2001:db8::3", "192.0.2.1"]);
  });

  it("ranks a late answer among the addresses still waiting", () => {
    const queue = new AddressQueue(80, { preferredFamily: 6, firstAddressFamilyCount: 1, rank });
    queue.add(4, ["192.0.2.1", "192.0.2.3"]);
    assert.equal(queue.take()?.address, "192.0.2.1");
    queue.add(4, ["192.0.2.2"]);
    queue.end();
    assert.deepEqual(drain(queue), ["192.0.2.2", "192.0.2.3"]);
  });
});

describe("thenBy", () => {
  const byLength = (a: string, b: string) => a.length - b.length;
  const alphabetical = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

  it("asks the second ranking only on a tie of the first", () => {
    const rank = thenBy(byLength, alphabetical)!;
    assert.deepEqual(["192.0.2.10", "192.0.2.9", "192.0.2.1"].sort(rank), ["192.0.2.1", "192.0.2.9", "192.0.2.10"]);
  });

  it("stands in for whichever ranking is missing", () => {
    assert.equal(thenBy(byLength, undefined), byLength);
    assert.equal(thenBy(undefined, alphabetical), alphabetical);
    assert.equal(thenBy(undefined, undefined), undefined);
  });
});

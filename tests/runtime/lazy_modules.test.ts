import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomFill } from "../../src/runtime/lazy_modules.ts";

describe("randomFill: DNS query ids from the runtime's CSPRNG", () => {
  it("fills the array it is given, with values that vary", () => {
    const ids = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint16Array(1);
      assert.equal(randomFill(bytes), bytes);
      ids.add(bytes[0]);
    }
    // 200 draws from 65,536 values: fewer than 150 distinct would mean a broken source.
    assert.ok(ids.size > 150, `${ids.size} distinct ids of 200`);
  });
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configStamp, readConfigText } from "../../src/dns/config_files.ts";

/** A fresh folder, removed afterwards. */
async function inFolder(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "eyeballs-config-"));
  try {
    await test(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("resolver configuration files (with this runtime's own file calls)", () => {
  it("reads a file's text, and a missing file as empty (glibc's defaults)", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "resolv.conf");
      writeFileSync(file, "nameserver 192.0.2.53\n");
      assert.equal(await readConfigText(file), "nameserver 192.0.2.53\n");
      assert.equal(await readConfigText(join(dir, "missing")), "");
    });
  });

  it("throws what is not a missing file (a folder is not a configuration file)", async () => {
    await inFolder(async (dir) => {
      await assert.rejects(readConfigText(dir));
    });
  });

  it("stamps change when a file is modified, created or removed, and stay put otherwise", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "hosts");
      const missing = await configStamp(file);
      assert.equal(await configStamp(file), missing);
      writeFileSync(file, "192.0.2.1 a.test\n");
      utimesSync(file, 1_000_000, 1_000_000);
      const created = await configStamp(file);
      assert.notEqual(created, missing);
      assert.equal(await configStamp(file), created);
      utimesSync(file, 2_000_000, 2_000_000);
      assert.notEqual(await configStamp(file), created);
      rmSync(file);
      assert.equal(await configStamp(file), missing);
    });
  });
});

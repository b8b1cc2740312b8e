import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configStamp, readConfigText, RECHECK_MS, watchConfig } from "../../src/dns/config_files.ts";

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

describe("watchConfig: files read once, and again when they change", () => {
  /** A watch of `file` whose reads are counted, on a clock the test moves. */
  function watch(file: string, first?: string) {
    let time = 0;
    let reads = 0;
    let fail = false;
    const get = watchConfig([file], async () => {
      reads++;
      if (fail) throw new Error("unreadable");
      return await readConfigText(file);
    }, { first, now: () => time });
    return {
      get,
      reads: () => reads,
      pass: (ms: number) => void (time += ms),
      failNext: (yes: boolean) => void (fail = yes),
    };
  }

  it("reads at the first call, not again before RECHECK_MS, and concurrent callers share the reading", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "hosts");
      writeFileSync(file, "v1");
      const w = watch(file);
      assert.equal(w.reads(), 0, "nothing is read before the first call");
      assert.deepEqual(await Promise.all([w.get(), w.get()]), ["v1", "v1"]);
      assert.equal(w.reads(), 1);
      writeFileSync(file, "v2");
      utimesSync(file, 2_000_000, 2_000_000);
      w.pass(RECHECK_MS - 1);
      assert.equal(await w.get(), "v1", "within RECHECK_MS the files are not looked at");
      assert.equal(w.reads(), 1);
    });
  });

  it("reads again at the first check after a first reading (it took no stamp), then only when a file changed", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "hosts");
      writeFileSync(file, "v1");
      utimesSync(file, 1_000_000, 1_000_000);
      const w = watch(file);
      assert.equal(await w.get(), "v1");
      // Changed right after the first reading, with the same mtime as before: only a fresh reading can see it.
      writeFileSync(file, "v2");
      utimesSync(file, 1_000_000, 1_000_000);
      w.pass(RECHECK_MS);
      assert.equal(await w.get(), "v2");
      assert.equal(w.reads(), 2);
      w.pass(RECHECK_MS);
      assert.equal(await w.get(), "v2", "unchanged since its stamp: not read");
      assert.equal(w.reads(), 2);
      writeFileSync(file, "v3");
      utimesSync(file, 3_000_000, 3_000_000);
      w.pass(RECHECK_MS);
      assert.equal(await w.get(), "v3");
      assert.equal(w.reads(), 3);
      rmSync(file);
      w.pass(RECHECK_MS);
      assert.equal(await w.get(), "", "a removed file reads as empty");
      assert.equal(w.reads(), 4);
    });
  });

  it("starts from a value already read, and checks the files only after RECHECK_MS", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "hosts");
      writeFileSync(file, "on disk");
      const w = watch(file, "given");
      assert.equal(await w.get(), "given");
      assert.equal(w.reads(), 0);
      w.pass(RECHECK_MS);
      assert.equal(await w.get(), "on disk", "the given value had no stamp: the first check reads");
      assert.equal(w.reads(), 1);
    });
  });

  it("rejects the callers of a reading that throws, and tries again at the next call", async () => {
    await inFolder(async (dir) => {
      const file = join(dir, "hosts");
      writeFileSync(file, "v1");
      const w = watch(file);
      w.failNext(true);
      await assert.rejects(w.get(), /unreadable/);
      w.failNext(false);
      assert.equal(await w.get(), "v1");
      assert.equal(w.reads(), 2);
    });
  });
});

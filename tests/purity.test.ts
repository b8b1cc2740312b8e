import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { codeOf, roomOf, RUNTIME_FREE, sourceFiles } from "./helpers/layers.ts";

// Runs on the sources (deno, bun) and on the npm build (node): whichever files sit beside.
const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const files = sourceFiles(srcDir).filter((file) => RUNTIME_FREE.includes(roomOf(file)!));

const forbidden: Array<[string, RegExp]> = [
  ["the Deno global", /\bDeno\s*\./],
  ["the Bun global", /\bBun\s*\./],
  ["a node: import", /["']node:[a-z_/]+["']/],
  ["the process global", /\bprocess\s*\./],
  ["require()", /\brequire\s*\(/],
  ["a bare package import", /\bfrom\s+["'](?![./])[^"']+["']/],
];

describe("the core rooms touch no runtime global", () => {
  it("finds the core files", () => {
    assert.ok(files.length >= 15, `found ${files.join(", ")}`);
  });
  for (const file of files) {
    it(file, () => {
      const code = codeOf(join(srcDir, file));
      for (const [what, pattern] of forbidden) {
        assert.doesNotMatch(code, pattern, `${file} uses ${what}`);
      }
    });
  }
});

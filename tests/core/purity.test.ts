import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Runs on the sources (deno, bun) and on the npm build (node): whichever files sit beside.
const coreDir = fileURLToPath(new URL("../../src/core/", import.meta.url));
const files = readdirSync(coreDir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith(".d.ts"));

const forbidden: Array<[string, RegExp]> = [
  ["the Deno global", /\bDeno\s*\./],
  ["the Bun global", /\bBun\s*\./],
  ["a node: import", /["']node:[a-z_/]+["']/],
  ["the process global", /\bprocess\s*\./],
  ["require()", /\brequire\s*\(/],
  ["a bare package import", /\bfrom\s+["'](?![./])[^"']+["']/],
];

describe("the core touches no runtime global", () => {
  it("finds the core files", () => {
    assert.ok(files.length >= 8, `found ${files.join(", ")}`);
  });
  for (const file of files) {
    it(file, () => {
      const code = readFileSync(coreDir + file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "") // JSDoc examples may show adapter use
        .replace(/\/\/.*$/gm, "");
      for (const [what, pattern] of forbidden) {
        assert.doesNotMatch(code, pattern, `${file} uses ${what}`);
      }
    });
  }
});

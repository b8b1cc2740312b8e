/**
 * What each entry point loads at import: the runtime modules reached by the
 * static imports of its module graph. A fresh process pays for each of them
 * before its first connect (node:http and node:https cost Bun about 10 ms
 * each), so the main entries load only node:net, and everything heavier is
 * loaded at first use or lives in a `clients` subpath.
 *
 * Read from the sources (deno, bun) or the compiled files beside them (node).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

// `import x from "m"`, `import { a } from "m"`, `export { a } from "m"`, `export * from "m"`, `import "m"`.
const STATIC_IMPORT =
  /^\s*(?:import|export)\s+(type\s+)?(\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+[\w$]+))?)\s*from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;

/** A named import whose every name is `type x`: erased by the compiler, loads nothing. */
function typeOnly(clause: string | undefined): boolean {
  if (!clause?.startsWith("{")) return false;
  const names = clause.slice(1, -1).split(",").map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith("type "));
}

/** The source file of `path` (without extension) here: .ts beside the sources, .js in the build. */
function fileOf(path: string): string {
  const base = path.replace(/\.(ts|js)$/, "");
  return existsSync(base + ".ts") ? base + ".ts" : base + ".js";
}

/** The files of an entry's static import graph, and the runtime modules it loads (each with the first file importing it). */
function staticBuiltins(entry: string): { modules: number; files: Set<string>; builtins: Map<string, string> } {
  const seen = new Set<string>();
  const builtins = new Map<string, string>();
  const todo = [fileOf(resolve(root, entry))];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "") // JSDoc examples import the package by name
      .replace(/^\s*\/\/.*$/gm, "");
    for (const [, typeKeyword, clause, from, bare] of code.matchAll(STATIC_IMPORT)) {
      if (typeKeyword || typeOnly(clause)) continue;
      const specifier = from ?? bare;
      if (specifier.startsWith(".")) todo.push(fileOf(resolve(dirname(file), specifier)));
      else if (!builtins.has(specifier)) builtins.set(specifier, file.slice(root.length));
    }
  }
  return { modules: seen.size, files: seen, builtins };
}

const entries: Array<[entry: string, loads: string[]]> = [
  ["mod.ts", []],
  ["src/adapters/deno/mod.ts", []],
  ["src/adapters/node/mod.ts", ["node:net"]],
  ["src/adapters/bun/mod.ts", ["node:net"]],
  ["src/socket/node_transport.ts", ["node:net"]],
];

describe("what each entry point loads at import", () => {
  for (const [entry, loads] of entries) {
    it(`${entry} loads ${loads.join(", ") || "no runtime module"}`, () => {
      const { modules, builtins } = staticBuiltins(entry);
      assert.ok(modules > 1, `${entry}: the walk found ${modules} module`);
      const found = [...builtins].map(([specifier, by]) => `${specifier} (imported by ${by})`).sort();
      assert.deepEqual([...builtins.keys()].sort(), loads, `${entry} loads ${found.join(", ")}`);
    });
  }

  it("the Deno entry loads the stub resolver's modules at its first lookup, not at import", () => {
    const { files } = staticBuiltins("src/adapters/deno/mod.ts");
    const loaded = [...files].filter((f) => /\/dns\/(stub|exchange|message|resolv_conf|hosts_file)\./.test(f));
    assert.deepEqual(loaded, []);
    assert.ok([...files].some((f) => f.includes("dns/lazy_stub.")), "the walk missed dns/lazy_stub");
  });

  it("the clients subpath is where node:http, node:https and node:stream are loaded", () => {
    const { builtins } = staticBuiltins("src/clients/mod.ts");
    for (const m of ["node:http", "node:https", "node:stream"]) assert.ok(builtins.has(m), `${m} not found`);
  });
});

describe("the clients subpaths", () => {
  it("/node and /bun no longer export the client hooks; /node/clients and /bun/clients do", async () => {
    const ext = fileOf(resolve(root, "src/adapters/node/mod")).slice(-3);
    const [node, bun, nodeClients, bunClients] = await Promise.all(
      ["node/mod", "bun/mod", "node/clients", "bun/clients"].map((p) =>
        import(
          p === "bun/clients"
            ? `../../src/clients/bun${ext}`
            : p === "node/clients"
            ? `../../src/clients/mod${ext}`
            : `../../src/adapters/${p}${ext}`
        )
      ),
    );
    for (
      const name of ["createConnection", "EyeballsSocket", "EyeballsAgent", "EyeballsHttpsAgent", "undiciConnector"]
    ) {
      assert.equal(node[name], undefined, `/node exports ${name}`);
      assert.equal(bun[name], undefined, `/bun exports ${name}`);
      assert.equal(typeof nodeClients[name], "function", `/node/clients lacks ${name}`);
      assert.equal(bunClients[name], nodeClients[name], `/bun/clients' ${name} is not the Node one`);
    }
  });
});

/**
 * The rooms of src/ and the graph of their imports, for tests/layers.test.ts
 * and tests/purity.test.ts. docs/architecture.md explains the order.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";

/** The rooms, lowest first; a file may import from its own layer or a lower one. */
export const ROOMS: readonly (readonly string[])[] = [
  ["base"],
  ["race"],
  ["addresses"],
  ["history"],
  ["connect"],
  ["runtime"],
  ["dns"],
  ["adapters/shared"],
  ["adapters/deno", "adapters/node"],
  ["adapters/bun"],
  ["clients"],
  ["socket"],
  ["cli"],
];

/** The rooms that touch no runtime: no Deno, no Bun, no node: module. */
export const RUNTIME_FREE = ["base", "race", "addresses", "history", "connect"];

/** The room of a file, by its path relative to src/. */
export function roomOf(file: string): string | undefined {
  const parts = file.split("/");
  const room = parts[0] === "adapters" ? parts.slice(0, 2).join("/") : parts[0];
  return ROOMS.flat().includes(room) ? room : undefined;
}

/** Source text without comments: JSDoc examples may show other rooms. */
export function codeOf(path: string): string {
  return readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Every source file under `dir` (.ts, or .js in the npm build), relative to it. */
export function sourceFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix)).flatMap((name) => {
    const path = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, path)).isDirectory()) return sourceFiles(dir, path);
    return /\.(ts|js)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

/** file → the files of src/ it imports (static, dynamic, type-only and re-exports alike). */
export function importGraph(srcDir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcDir)) {
    const targets = [...codeOf(join(srcDir, file)).matchAll(SPECIFIER)]
      .map((m) => normalize(join(dirname(file), m[1])).replaceAll("\\", "/"))
      .filter((target) => !target.startsWith("..") && existsSync(join(srcDir, target)));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

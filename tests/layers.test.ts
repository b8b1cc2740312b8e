import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { importGraph, roomOf, ROOMS } from "./helpers/layers.ts";

// Runs on the sources (deno, bun) and on the npm build (node): whichever files sit beside.
const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const graph = importGraph(srcDir);

describe("the rooms of src/ import one way", () => {
  it("finds every room", () => {
    const found = new Set([...graph.keys()].map(roomOf));
    for (const room of ROOMS.flat()) assert.ok(found.has(room), `no file in src/${room}`);
  });

  it("every file sits in a room", () => {
    const lost = [...graph.keys()].filter((file) => roomOf(file) === undefined);
    assert.deepEqual(lost, []);
  });

  it("no file imports from a higher room", () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        if (rank(target) > rank(file)) upward.push(`${file} → ${target}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it("no import circle, type imports included", () => {
    assert.deepEqual(findCircle(graph), undefined);
  });
});

function rank(file: string): number {
  const room = roomOf(file);
  return ROOMS.findIndex((layer) => layer.includes(room!));
}

/** The first circle found, as its files in order, or undefined. */
function findCircle(edges: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    if (state.get(file) === "done") return undefined;
    if (state.get(file) === "open") return [...path.slice(path.indexOf(file)), file];
    state.set(file, "open");
    path.push(file);
    for (const next of edges.get(file) ?? []) {
      const circle = visit(next);
      if (circle) return circle;
    }
    path.pop();
    state.set(file, "done");
    return undefined;
  };
  for (const file of edges.keys()) {
    const circle = visit(file);
    if (circle) return circle;
  }
  return undefined;
}

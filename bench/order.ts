/**
 * Prints the addresses `node:dns` lookup returns for a name, in order, with
 * and without `verbatim`, as one JSON line: `order.ts NAME FAMILY`. The
 * eyeballs adapters resolve through this call, so the bench shows when a
 * runtime's lookup does not keep getaddrinfo's order.
 *
 * @module
 */

import dns from "node:dns";
import { exit } from "./connectors.ts";

const [name, family] = typeof process !== "undefined" ? process.argv.slice(2) : [];
const lookup = (verbatim: boolean) =>
  new Promise<string[] | string>((resolve) =>
    dns.lookup(name, { family: Number(family), all: true, verbatim }, (error, addresses) => {
      resolve(error ? String(error.code ?? error) : addresses.map((a) => a.address));
    })
  );
// Both: the default order, and the order the adapters ask for (verbatim).
console.log(JSON.stringify({ lookup: await lookup(false), verbatim: await lookup(true) }));
exit(0);

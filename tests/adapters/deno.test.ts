import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../../src/adapters/deno/mod.ts";
import { loopbackSuite } from "../helpers/loopback.ts";

const notDeno = !("Deno" in globalThis) && "the Deno adapter is tested under deno test";

/** Reads until `length` characters arrived. */
async function receive(conn: Deno.TcpConn, length: number): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(1024);
  while (text.length < length) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

loopbackSuite<Deno.TcpConn>("deno", notDeno, {
  connect: (hostname, port, extra) => connect({ hostname, port, ...extra }),
  send: async (conn, text) => void await conn.write(new TextEncoder().encode(text)),
  receive,
  close: (conn) => conn.close(),
});

describe("deno adapter options", { skip: notDeno }, () => {
  it("names its own field, hostname", async () => {
    await assert.rejects(connect({ hostname: "", port: 80 }), {
      name: "RangeError",
      message: /^hostname must not be empty/,
    });
    await assert.rejects(connect({ hostname: "localhost", port: 70000 }), { name: "RangeError", message: /^port/ });
  });
});

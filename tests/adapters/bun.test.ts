import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type net from "node:net";
import { connect } from "../../src/adapters/bun/mod.ts";
import { loopbackSuite } from "../helpers/loopback.ts";
import { readSocket } from "../helpers/socket_io.ts";

const notBun = !("Bun" in globalThis) && "the Bun adapter is tested under bun test";

loopbackSuite<net.Socket>("bun", notBun, {
  connect: (hostname, port, extra) => connect({ hostname, port, ...extra }),
  send: (socket, text) => new Promise((resolve) => socket.write(text, () => resolve())),
  receive: readSocket,
  close: (socket) => socket.destroy(),
});

describe("bun adapter options", { skip: notBun }, () => {
  it("names its own field, hostname", async () => {
    await assert.rejects(connect({ hostname: "", port: 80 }), {
      name: "RangeError",
      message: /^hostname must not be empty/,
    });
    await assert.rejects(connect({ hostname: "localhost", port: 0 }), { name: "RangeError", message: /^port/ });
  });
});

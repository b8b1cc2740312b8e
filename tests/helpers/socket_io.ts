/** Reading a fixed amount of text from a node:net socket, for the adapter tests. */

import type net from "node:net";

/** Resolves with the first `length` characters that arrive on `socket`. */
export function readSocket(socket: net.Socket, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Uint8Array) => {
      text += new TextDecoder().decode(chunk);
      if (text.length >= length) {
        socket.off("data", onData);
        socket.off("error", reject);
        socket.pause();
        resolve(text);
      }
    };
    socket.on("data", onData);
    socket.on("error", reject);
    socket.resume(); // a previous read paused it, so that nothing arrives with no listener
  });
}

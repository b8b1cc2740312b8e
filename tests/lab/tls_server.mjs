// A TLS server for the lab's server namespace (tests/lab/tls_race.test.ts starts it there with `ip netns exec`):
// one dual-stack listener on PORT, every address; writes "eyb-tls\n" to each client, then closes.
//   node tls_server.mjs CERT_FILE KEY_FILE PORT
import { readFileSync } from "node:fs";
import tls from "node:tls";

const [certFile, keyFile, port] = process.argv.slice(2);
const server = tls.createServer({ cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") }, (s) => {
  s.on("error", () => {});
  s.end("eyb-tls\n");
});
server.on("tlsClientError", () => {});
server.listen({ port: Number(port), host: "::" }, () => console.log("ready"));

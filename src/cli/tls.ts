/**
 * `--tls` over `node:tls`: the adapter's `connectTls` (Node's, or Bun's; under
 * Deno, Node's too: `Deno.TlsConn` shows no peer certificate and
 * `Deno.startTls` takes no separate server name), and what the CLI reports
 * of its winner: the handshake's time, the ALPN protocol agreed, the
 * certificate's subject and issuer.
 *
 * @module
 */

import type tls from "node:tls";
import { handshakeMs } from "../adapters/shared/tls_race.ts";
import type { TlsConnection, TlsRequest } from "./run.ts";

/** An adapter's `connectTls` taking the host under `hostField`. */
type ConnectTls = (options: never) => Promise<tls.TLSSocket>;

/**
 * The CLI's TLS connect through `connect`, an adapter's `connectTls` on
 * `node:tls`: `--ca` certificates added to the system's roots (a `ca` option
 * alone would replace them), `--alpn` offered, `--servername` for SNI and the
 * certificate check.
 */
export function nodeTlsConnector(
  connect: ConnectTls,
  hostField: "host" | "hostname",
): (request: TlsRequest) => Promise<TlsConnection> {
  return async (request) => {
    const { rootCertificates } = await import("node:tls");
    const options = {
      ...request.race,
      [hostField]: request.host,
      port: request.port,
      ...(request.ca && { ca: [...rootCertificates, ...request.ca] }),
      ...(request.alpn && { ALPNProtocols: [...request.alpn] }),
      ...(request.servername !== undefined && { servername: request.servername }),
    };
    const socket = await (connect as (options: unknown) => Promise<tls.TLSSocket>)(options);
    const certificate = socket.getPeerCertificate();
    return {
      address: socket.remoteAddress ?? "",
      family: socket.remoteFamily === "IPv6" ? 6 : 4,
      handshakeMs: handshakeMs(socket) ?? null,
      alpn: socket.alpnProtocol || null,
      subject: distinguishedName(certificate?.subject),
      issuer: distinguishedName(certificate?.issuer),
      close: () => socket.destroy(),
    };
  };
}

/** A certificate name as `node:tls` gives it (`{ CN: "example.com", O: "..." }`), as text: "CN=example.com, O=...". */
export function distinguishedName(name: unknown): string | null {
  if (typeof name !== "object" || name === null) return null;
  const parts = Object.entries(name as Record<string, unknown>).map(([key, value]) =>
    `${key}=${Array.isArray(value) ? value.join("+") : String(value)}`
  );
  return parts.length ? parts.join(", ") : null;
}

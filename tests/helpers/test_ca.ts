/**
 * A certificate authority made at run time for the TLS tests: a CA, a
 * server certificate for `localhost`, `eyeballs.test`, 127.0.0.1 and ::1,
 * and a client certificate, all signed by the CA. No key is ever checked in.
 */

import selfsigned from "selfsigned";

/** PEM texts of the test CA and what it signed. */
export interface TestCa {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
  /** Another CA's certificate, trusted by nobody here (for the "unknown CA" cases). */
  readonly strangerCert: string;
}

let made: Promise<TestCa> | undefined;

/** The test CA, made once per process. */
export function testCa(): Promise<TestCa> {
  made ??= makeCa();
  return made;
}

async function makeCa(): Promise<TestCa> {
  const days = 2;
  const notAfterDate = new Date(Date.now() + days * 86_400_000);
  // EC P-256 with sha256 for every certificate: rustls (Deno) rejects selfsigned's default ecdsa-sha1.
  const key = { keyType: "ec" as const, curve: "P-256" as const, algorithm: "sha256", notAfterDate };
  const caOptions = {
    ...key,
    extensions: [
      { name: "basicConstraints" as const, cA: true, critical: true },
      { name: "keyUsage" as const, keyCertSign: true, cRLSign: true, critical: true },
    ],
  };
  const ca = await selfsigned.generate([{ name: "commonName", value: "eyeballs test CA" }], caOptions);
  const stranger = await selfsigned.generate([{ name: "commonName", value: "stranger CA" }], caOptions);
  const signedByCa = { ...key, ca: { key: ca.private, cert: ca.cert } };
  const server = await selfsigned.generate([{ name: "commonName", value: "localhost" }], {
    ...signedByCa,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 2, value: "eyeballs.test" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  const client = await selfsigned.generate([{ name: "commonName", value: "eyeballs test client" }], {
    ...signedByCa,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
  return {
    caCert: ca.cert,
    serverKey: server.private,
    serverCert: server.cert,
    clientKey: client.private,
    clientCert: client.cert,
    strangerCert: stranger.cert,
  };
}

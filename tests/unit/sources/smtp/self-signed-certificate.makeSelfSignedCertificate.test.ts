import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeSelfSignedCertificate } from "../../../../src/sources/smtp/self-signed-certificate.ts";

describe("makeSelfSignedCertificate", () => {
  it("When made for a host name, then it is a certificate for that name, signed by its own key, valid from now", () => {
    const now = new Date("2026-12-06T12:00:00Z");
    const { cert, key } = makeSelfSignedCertificate("mx.msp.example", now);
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe("CN=mx.msp.example");
    expect(x509.subjectAltName).toBe("DNS:mx.msp.example");
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(new Date(x509.validFrom).getTime()).toBeLessThanOrEqual(now.getTime());
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(now.getTime() + 365 * 86_400_000);
  });

  it("When the random serial starts with zero bytes, then the certificate is still well-formed DER that OpenSSL reads", () => {
    for (const first of [0x00, 0x80]) {
      const random = (size: number) => Buffer.concat([Buffer.from([first, 0x00, 0x01]), Buffer.alloc(size - 3, 0x22)]);
      const { cert } = makeSelfSignedCertificate("mx.msp.example", new Date(), 30, "ec", random);
      const serial = new X509Certificate(cert).serialNumber;
      expect(serial, `first byte ${first}`).toHaveLength(32);
      expect(serial.slice(0, 2), `first byte ${first}`).toMatch(/^[0-7][1-9A-F]|^[1-7]0$/);
    }
  });
});

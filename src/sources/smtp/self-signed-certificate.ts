// A self-signed certificate for the SMTP listener's STARTTLS when no SMTP_TLS_CERT is given:
// sending servers use STARTTLS opportunistically and do not check the certificate, so encryption
// works without one; an operator who wants a verifiable one sets SMTP_TLS_CERT/SMTP_TLS_KEY.
// Built with node:crypto alone (an ECDSA P-256 key, an X.509 v3 certificate in DER), so no
// openssl binary or extra package is needed at run time.
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  sha256WithRsa: "1.2.840.113549.1.1.11",
  commonName: "2.5.4.3",
  subjectAltName: "2.5.29.17",
};

/** `keyType` "rsa" (2048 bits) for a signer that must be RSA, as an SNS signing certificate is. */
export function makeSelfSignedCertificate(
  hostname: string,
  now: Date,
  days = 3650,
  keyType: "ec" | "rsa" = "ec",
  random: (size: number) => Buffer = randomBytes,
): { cert: string; key: string } {
  const { privateKey, publicKey } =
    keyType === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const name = seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(hostname, "utf8")))));
  const algorithm = keyType === "rsa" ? seq(oid(OID.sha256WithRsa), Buffer.from([0x05, 0x00])) : seq(oid(OID.ecdsaWithSha256));
  // Positive, and with a first byte that is not zero: DER wants an INTEGER in its fewest bytes, and
  // OpenSSL refuses a certificate whose serial starts with a zero byte it did not need.
  const serial = random(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const notAfter = new Date(now.getTime() + days * 86_400_000);
  const san = seq(tlv(0x82, Buffer.from(hostname, "ascii"))); // dNSName
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))), // v3
    int(serial),
    algorithm,
    name,
    seq(time(new Date(now.getTime() - 3_600_000)), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    tlv(0xa3, seq(seq(oid(OID.subjectAltName), tlv(0x04, san)))),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return {
    cert: pem("CERTIFICATE", der),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const int = (bytes: Buffer) => tlv(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [40 * a + b];
  for (const part of rest) {
    const groups = [part & 0x7f];
    for (let v = part >> 7; v > 0; v >>= 7) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"; // YYYYMMDDHHMMSSZ
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), "ascii")) : tlv(0x18, Buffer.from(iso, "ascii"));
}

const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;

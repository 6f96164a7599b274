// Secrets at rest (IMAP passwords, OAuth tokens, webhook secrets, Graph clientState) are sealed
// with AES-256-GCM. Layout: version byte | 12-byte IV | 16-byte tag | ciphertext.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";

const VERSION = 1;

export type SecretBox = {
  seal(plaintext: string): Buffer;
  open(sealed: Buffer): string;
  sealJson(value: unknown): Buffer;
  openJson<T>(sealed: Buffer): T;
  /** A stable token for `label`, the same on every instance sharing the key, and nobody else's. */
  fingerprint(label: string): string;
};

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("The secret key must be 32 bytes (AES-256).");
  const seal = (plaintext: string): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  };
  const open = (sealed: Buffer): string => {
    if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error("Sealed secret has an unknown format.");
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(1, 13));
    decipher.setAuthTag(sealed.subarray(13, 29));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString("utf8");
    } catch (cause) {
      throw new Error(
        "A stored secret cannot be decrypted: MAILGATE_SECRET_KEY (or DATA_DIR/secret.key) is not the key it was sealed with.",
        { cause },
      );
    }
  };
  return {
    seal,
    open,
    sealJson: (value) => seal(JSON.stringify(value)),
    openJson: <T>(sealed: Buffer) => JSON.parse(open(sealed)) as T,
    fingerprint: (label) => createHmac("sha256", key).update(label).digest("hex").slice(0, 32),
  };
}

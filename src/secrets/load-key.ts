// The secret key comes from MAILGATE_SECRET_KEY, or else from DATA_DIR/secret.key, created on
// first start with mode 0600. The admin token is handled the same way (DATA_DIR/admin-token).
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export function loadOrCreateKey(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured) return configured;
  const file = path.resolve(dataDir, "secret.key");
  const existing = readIfExists(file);
  if (existing !== undefined) {
    const key = Buffer.from(existing.trim(), "hex");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key; restore it or set MAILGATE_SECRET_KEY.`);
    return key;
  }
  const key = randomBytes(32);
  writePrivate(file, key.toString("hex") + "\n");
  return key;
}

/** Returns the admin token and whether it was created now (so main.ts prints it once). */
export function loadOrCreateAdminToken(configured: string | undefined, dataDir: string): { token: string; created: boolean } {
  if (configured) return { token: configured, created: false };
  const file = path.resolve(dataDir, "admin-token");
  const existing = readIfExists(file);
  if (existing !== undefined && existing.trim().length >= 16) return { token: existing.trim(), created: false };
  const token = "mgt_" + randomBytes(24).toString("base64url");
  writePrivate(file, token + "\n");
  return { token, created: true };
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

function writePrivate(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
}

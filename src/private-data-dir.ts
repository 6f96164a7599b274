// DATA_DIR holds raw mail, the embedded database, the admin token and the secret key: only
// mailgate's user may read it. The umask covers every file this process creates; the directory's
// own mode 0700 covers what an older version left world-readable inside it, and what PGlite
// creates while running (see privatizeTree).
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Logger } from "./log.ts";

/** Owner-only permissions for everything this process creates from now on. Call first thing at start. */
export function keepNewFilesPrivate(): void {
  process.umask(0o077);
}

/** Creates DATA_DIR mode 0700, or takes group and other access away from an existing one. */
export function ensurePrivateDataDir(dataDir: string, log: Logger): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  chmodSync(dataDir, mode & 0o700);
  log.info({ dataDir, was: mode.toString(8), now: (mode & 0o700).toString(8) }, "made the data directory private to mailgate's user");
}

/**
 * Takes group and other access away from every file and directory under `dir`. PGlite's file
 * system layer (Emscripten's NODEFS) chmods each file it creates to 0666 after creating it, which
 * the umask cannot stop; run at open and at close, this leaves its files owner-only at rest, and
 * DATA_DIR's 0700 keeps those it creates in between out of reach. Returns how many it changed.
 */
export function privatizeTree(dir: string): number {
  let changed = 0;
  const visit = (p: string) => {
    const stat = lstatSync(p);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) {
      chmodSync(p, stat.mode & 0o700);
      changed++;
    }
    if (stat.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
  };
  visit(dir);
  return changed;
}

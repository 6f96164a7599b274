// Benchmarks run against a real Postgres: a fresh database on BENCH_DATABASE_URL (or the local
// CI server), dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { buildContext } from "../src/boot.js";
import { unixSocketOf } from "../src/db/client.js";
import { parseConfig } from "../src/config.js";
import type { Context } from "../src/context.js";

export async function benchContext(env: Record<string, string> = {}): Promise<{ ctx: Context; close(): Promise<void> }> {
  const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const name = `mailgate_bench_${randomBytes(4).toString("hex")}`;
  const socket = unixSocketOf(base);
  const adminOptions = { max: 1, onnotice: () => {}, ...(socket.socketDir ? { host: socket.socketDir } : {}) };
  const admin = postgres(socket.url, adminOptions);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(socket.url);
  url.pathname = `/${name}`;
  if (socket.socketDir) url.searchParams.set("host", socket.socketDir);
  const config = parseConfig({
    DATABASE_URL: url.toString(),
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "mailgate-bench-")),
    ADMIN_API_TOKEN: "bench-token-0123456789",
    LOG_LEVEL: "warn",
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    ...env,
  });
  const ctx = await buildContext(config);
  return {
    ctx,
    close: async () => {
      await ctx.database.close();
      const a = postgres(socket.url, adminOptions);
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

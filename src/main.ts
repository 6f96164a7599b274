// Wiring only: parse config, open the database, migrate, start HTTP, workers and sources; stop cleanly.
import type { Server } from "node:http";
import { runCommandLine } from "./cli.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { keepNewFilesPrivate } from "./private-data-dir.ts";

async function main(): Promise<void> {
  runCommandLine(process.argv.slice(2));
  keepNewFilesPrivate();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Loaded only now, so --help, --version and a configuration error answer without loading the server's modules.
  const [{ buildContext }, { createApp }, { startRuntime }] = await Promise.all([
    import("./boot.ts"),
    import("./http/app.ts"),
    import("./runtime.ts"),
  ]);
  const ctx = await buildContext(config);
  const { log } = ctx;
  if (ctx.adminTokenCreated) {
    // Printed once, on first start; it stays in DATA_DIR/admin-token.
    process.stdout.write(
      `\nmailgate created an admin API token (stored in ${config.dataDir}/admin-token):\n\n    ${ctx.adminToken}\n\nUse it as: Authorization: Bearer <token>\n\n`,
    );
  }

  let server: Server | undefined;
  if (config.roles.includes("api")) {
    server = createApp(ctx).listen(config.port, config.host);
    await new Promise<void>((resolve, reject) => {
      server!.once("listening", resolve).once("error", reject);
    });
  }
  const runtime = startRuntime(ctx);
  log.info({ port: config.port, database: ctx.database.kind, roles: config.roles, publicUrl: config.publicUrl, startupMs: Math.round(performance.now()) }, "mailgate started");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    const force = setTimeout(() => {
      log.error("shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server?.closeAllConnections();
    await runtime.stop();
    ctx.databaseOutage.stop();
    await ctx.database.close();
    log.info("stopped");
    process.exit(0);
  };
  // An error nothing caught leaves mailgate in a state nobody knows: log it once and exit non-zero,
  // so the supervisor (systemd, Docker, Kubernetes) starts a clean process. Database faults never
  // come here; every part that uses the database catches them and waits.
  const fatal = (kind: string) => (err: unknown) => {
    log.fatal({ err, kind }, "mailgate hit an error it cannot recover from; exiting so its supervisor restarts it");
    process.exit(70); // EX_SOFTWARE
  };
  process.once("uncaughtException", fatal("uncaught exception"));
  process.once("unhandledRejection", fatal("unhandled rejection"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  console.error("mailgate failed to start:", err);
  process.exit(1);
});

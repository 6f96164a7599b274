// The SMTP listener: sources of kind `smtp` are handed their mail by sending servers (a
// forwarding rule, a relay, an MX record). Built on smtp-server; the protocol is its own, the
// answers are ours:
//
//   connect    554 for a client outside SMTP_ALLOW_FROM (when set)
//   RCPT TO    550 for an address no smtp source owns, 530 for one whose source wants AUTH,
//              450 for a disabled source's; a connection with too many refusals is closed (421)
//   DATA       250 only once the raw message is committed to inbound_messages (one copy per
//              owning source, with the envelope; the mails of concurrent DATA commands in one
//              INSERT, intake-batcher.ts), then the pipeline is woken; 552 over
//              MAX_MESSAGE_BYTES (advertised with SIZE); 451 when it cannot be stored, so the
//              sender keeps the mail and retries
//
// Stateless: every instance with the sources role may listen (no lease); the recipients are
// held in memory and reloaded when sources change (the `sources` wake) and every 30 s. While it
// listens it renews its presence, which keeps its smtp sources connected (listener-presence.ts).
import { readFileSync } from "node:fs";
import { BlockList, isIPv4 } from "node:net";
import { hostname } from "node:os";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import { parseCidr, type SmtpListenerConfig } from "../../config.ts";
import type { Context } from "../../context.ts";
import { storeInboundCopies } from "../../db/inbound-store.ts";
import type { InboundEnvelope } from "../../db/statuses.ts";
import { buildDirectory, checkLogin, copiesFor, decideRecipient, loadListenerSources, type Login, type RecipientDirectory } from "./recipient-directory.ts";
import { makeSelfSignedCertificate } from "./self-signed-certificate.ts";
import { createIntakeBatcher } from "./intake-batcher.ts";
import type { SmtpListenerMetrics, SmtpRefusalReason } from "../../metrics/smtp-listener-metrics.ts";
import { holdPresence, newPresenceName } from "./listener-presence.ts";

export type SmtpListener = {
  /** The port it listens on (the one asked for, or the one given for port 0). */
  port: number;
  /** Loads the sources' addresses and logins again; resolves once the new ones answer. */
  reload(): Promise<void>;
  stop(): Promise<void>;
};

const RELOAD_EVERY_MS = 30_000;
/** Idle pooled connections of senders get this long to finish when the listener stops. */
const CLOSE_TIMEOUT_MS = 3_000;

type SmtpError = Error & { responseCode: number };
const smtpError = (code: number, message: string): SmtpError => Object.assign(new Error(message), { responseCode: code });

export async function startSmtpListener(ctx: Context, config: SmtpListenerConfig): Promise<SmtpListener> {
  const { log } = ctx;
  const { selfSigned, ...tls } = loadTls(ctx, config);
  const allowed = allowList(config.allowFrom);
  let directory: RecipientDirectory | null = null;
  const refusals = new Map<string, number>();
  const intake = createIntakeBatcher({ write: (mails) => storeInboundCopies(ctx.db, mails), afterCommit: () => ctx.database.wake("inbound") });
  const metrics = ctx.metrics.smtpListener;
  const refuse = (reason: SmtpRefusalReason, code: number, message: string): SmtpError => {
    metrics.refused(reason);
    return smtpError(code, message);
  };

  const reload = async () => {
    try {
      directory = buildDirectory(await loadListenerSources(ctx));
    } catch (err) {
      // The directory loaded before stays in use; until a first one loads, recipients get 451.
      if (!ctx.databaseOutage.report(err)) log.error({ err }, "the SMTP listener could not load the smtp sources' addresses");
    }
  };

  const server = new SMTPServer({
    ...tls,
    name: hostname(),
    banner: "mailgate",
    size: ctx.config.maxMessageBytes,
    maxClients: config.maxClients,
    maxRecipients: config.maxRecipients,
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: true,
    // A reverse lookup per connection only names the client in logs; it costs a DNS round trip.
    disableReverseLookup: true,
    closeTimeout: CLOSE_TIMEOUT_MS,
    logger: false,
    onConnect(session, callback) {
      if (allowed && !allowed(session.remoteAddress)) {
        metrics.connection("refused");
        return callback(refuse("client_not_allowed", 554, `5.7.1 ${session.remoteAddress} may not connect here`));
      }
      metrics.connection("accepted");
      callback();
    },
    onAuth(auth, _session, callback) {
      const login = directory !== null && typeof auth.password === "string" ? checkLogin(directory, auth.username ?? "", auth.password) : null;
      if (login !== null) return callback(null, { user: login });
      callback(refuse("auth", 535, "5.7.8 Authentication credentials invalid"));
    },
    onMailFrom(_address, session, callback) {
      if (session.transaction > config.maxMessagesPerConnection) {
        return callback(refuse("limit", 421, `4.7.0 ${config.maxMessagesPerConnection} messages on one connection; connect again`));
      }
      callback();
    },
    onRcptTo(address, session, callback) {
      if (directory === null) return callback(refuse("database_unavailable", 451, "4.3.0 Not ready to receive yet, try again later"));
      const decision = decideRecipient(directory, address.address, loginOf(session));
      if (decision.kind === "accept") return callback();
      if (decision.counts) {
        const refused = (refusals.get(session.id) ?? 0) + 1;
        refusals.set(session.id, refused);
        if (refused >= config.maxRefusedRecipients) return callback(refuse("limit", 421, `4.7.0 Too many refused recipients; closing`));
      }
      callback(refuse(decision.reason, decision.code, decision.message));
    },
    onData(stream, session, callback) {
      const started = performance.now();
      void receiveMessage(stream, session).then(
        (reply) => {
          metrics.accepted(performance.now() - started);
          callback(null, reply);
        },
        (err: SmtpError) => callback(err),
      );
    },
    onClose(session) {
      refusals.delete(session.id);
    },
  });
  // smtp-server makes some refusals itself, with no handler of ours called: 421 over
  // SMTP_MAX_CLIENTS (its own check, made synchronously inside connect() once this connection is
  // counted, so the count just before tells), and the answers countOwnRefusals names.
  const connect = server.connect.bind(server);
  server.connect = (socket, socketOptions) => {
    if (server.connections.size >= config.maxClients) {
      metrics.connection("refused");
      metrics.refused("limit");
    }
    connect(socket, socketOptions);
    const connection = [...server.connections].find((c) => c._socket === socket);
    if (connection) countOwnRefusals(connection, metrics);
  };
  let listening = false;
  // Before it listens, an error is the listen's own, answered below.
  server.on("error", (err) => void (listening && log.warn({ err }, "SMTP listener: a connection failed")));

  /** Reads the whole message, then stores it; answers the 250 text or throws an SMTP error. */
  async function receiveMessage(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const raw = await readMessage(stream, ctx.config.maxMessageBytes);
    const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
    const login = loginOf(session);
    const sourceIds = directory === null ? [] : copiesFor(directory, recipients, login);
    if (sourceIds.length === 0) throw refuse("unknown_recipient", 451, "4.3.0 The recipients' mailboxes changed meanwhile; try again later");
    const envelope: InboundEnvelope = {
      mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
      rcptTo: recipients,
      clientAddress: session.remoteAddress,
      helo: session.hostNameAppearsAs || "",
      tls: session.secure,
      authUser: login?.user ?? null,
    };
    try {
      // The bytes as the sender sent them (no Received header added): a sender retrying after a
      // lost answer sends the same bytes, which are then stored once.
      const providerMessageId = "sha256:" + createHash("sha256").update(raw).digest("hex");
      await intake.store({ sourceIds, providerMessageId, raw, envelope, receivedAt: ctx.clock.now() });
    } catch (err) {
      if (ctx.databaseOutage.report(err)) throw refuse("database_unavailable", 451, "4.3.0 Temporary failure: the message cannot be stored now; try again later");
      log.error({ err, sourceIds, size: raw.length }, "SMTP listener: a message could not be stored; the sender was told to try again (451)");
      throw refuse("database_unavailable", 451, "4.3.0 Local error while storing the message; try again later");
    }
    return "2.0.0 Ok: stored";
  }

  await reload();
  const unsubscribe = ctx.database.onWake("sources", () => void reload());
  const timer = setInterval(() => void reload(), RELOAD_EVERY_MS);
  timer.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      server.server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.server.off("error", reject);
        resolve();
      });
    });
  } catch (cause) {
    unsubscribe();
    clearInterval(timer);
    throw new Error(`SMTP_LISTEN: cannot listen on ${config.host}:${config.port} (${(cause as Error).message}); free the port or choose another`, { cause });
  }
  listening = true;
  const port = (server.server.address() as AddressInfo).port;
  log.info({ host: config.host, port, tls: selfSigned ? "self-signed" : "SMTP_TLS_CERT" }, "SMTP listener started");
  const untrack = metrics.trackOpenConnections(() => server.connections.size);
  const presence = holdPresence(ctx, newPresenceName());
  await presence.firstPass;
  return {
    port,
    reload,
    stop: async () => {
      await presence.stop();
      untrack();
      unsubscribe();
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Counts the refusals smtp-server may answer without asking us, at the one place every answer
 * passes: 552, a message over the size limit (declared at MAIL FROM, or found at the end of DATA
 * by smtp-server or by readMessage), and a recipient over SMTP_MAX_RECIPIENTS.
 */
function countOwnRefusals(connection: SmtpConnection, metrics: SmtpListenerMetrics): void {
  const send = connection.send.bind(connection);
  connection.send = (code, data, context) => {
    if (code === 552) metrics.refused("size");
    else if (context === "TOO_MANY_RECIPIENTS") metrics.refused("limit");
    send(code, data, context);
  };
}

type SmtpConnection = SMTPServer["connections"] extends Set<infer C> ? C : never;

/** What onAuth gave the session (smtp-server keeps it as `session.user`). */
const loginOf = (session: SMTPServerSession): Login | null => (session.user ? (session.user as Login) : null);

/**
 * The message's bytes once DATA ends. Past `limit` the bytes are counted, not kept, and the end
 * answers 552; a connection cut before the end rejects, and nothing is stored.
 */
function readMessage(stream: SMTPServerDataStream, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    stream.once("error", () => reject(smtpError(451, "4.3.0 The message did not arrive in full")));
    stream.once("end", () => {
      if (stream.sizeExceeded || size > limit) reject(smtpError(552, `5.3.4 Message too big: the limit is ${limit} bytes`));
      else resolve(Buffer.concat(chunks, size));
    });
  });
}

function loadTls(ctx: Context, config: SmtpListenerConfig): { key: string; cert: string; selfSigned: boolean } {
  if (config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined) {
    return { cert: readPem("SMTP_TLS_CERT", config.tlsCertFile), key: readPem("SMTP_TLS_KEY", config.tlsKeyFile), selfSigned: false };
  }
  ctx.log.warn(
    "SMTP listener: no SMTP_TLS_CERT/SMTP_TLS_KEY, so STARTTLS uses a self-signed certificate made at start; sending servers encrypt with it but cannot verify it",
  );
  return { ...makeSelfSignedCertificate(hostname(), ctx.clock.now()), selfSigned: true };
}

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`${variable}: cannot read ${file} (${(cause as Error).message}); give the path of a PEM file`, { cause });
  }
}

/** A check of client addresses against SMTP_ALLOW_FROM; null when any client may connect. */
function allowList(ranges: string[]): ((address: string) => boolean) | null {
  if (ranges.length === 0) return null;
  const list = new BlockList();
  for (const range of ranges) {
    const cidr = parseCidr(range)!;
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return (address) => {
    const mapped = address.startsWith("::ffff:") && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return list.check(mapped, isIPv4(mapped) ? "ipv4" : "ipv6");
  };
}

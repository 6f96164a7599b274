// The SMTP listener's metrics: its connections, the messages it accepted, what it refused and why,
// and how long a sender waits from DATA to the 250. Labels are fixed words, never an address.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Why the listener said no (to a connection, a recipient, a login or a message). */
export const SMTP_REFUSAL_REASONS = ["unknown_recipient", "auth", "disabled", "size", "database_unavailable", "limit", "client_not_allowed"] as const;
export type SmtpRefusalReason = (typeof SMTP_REFUSAL_REASONS)[number];

export type SmtpListenerMetrics = {
  /** Counts a listener's open connections at each scrape, until the returned function is called. */
  trackOpenConnections(count: () => number): () => void;
  connection(outcome: "accepted" | "refused"): void;
  refused(reason: SmtpRefusalReason): void;
  /** A message answered 250, `durationMs` after its DATA command. */
  accepted(durationMs: number): void;
};

export function createSmtpListenerMetrics(registry: Registry): SmtpListenerMetrics {
  const listeners = new Set<() => number>();
  new Gauge({
    name: "mailgate_smtp_connections",
    help: "Open connections to the SMTP listener.",
    registers: [registry],
    collect() {
      this.set([...listeners].reduce((sum, count) => sum + count(), 0));
    },
  });
  const connections = new Counter({
    name: "mailgate_smtp_connections_total",
    help: "Connections to the SMTP listener by outcome: accepted (greeted) or refused (SMTP_ALLOW_FROM, SMTP_MAX_CLIENTS).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const messages = new Counter({
    name: "mailgate_smtp_messages_accepted_total",
    help: "Messages the SMTP listener answered 250 (stored in inbound_messages).",
    registers: [registry],
  });
  const refusals = new Counter({
    name: "mailgate_smtp_refusals_total",
    help: `What the SMTP listener refused, by reason: ${SMTP_REFUSAL_REASONS.join(", ")}.`,
    labelNames: ["reason"],
    registers: [registry],
  });
  const dataDuration = new Histogram({
    name: "mailgate_smtp_data_duration_seconds",
    help: "From a DATA command to its 250: the message's bytes arriving and being stored.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  // Every series shows from the first scrape, so a rate() has a zero to start from.
  for (const outcome of ["accepted", "refused"]) connections.inc({ outcome }, 0);
  for (const reason of SMTP_REFUSAL_REASONS) refusals.inc({ reason }, 0);

  return {
    trackOpenConnections: (count) => {
      listeners.add(count);
      return () => void listeners.delete(count);
    },
    connection: (outcome) => connections.inc({ outcome }),
    refused: (reason) => refusals.inc({ reason }),
    accepted: (durationMs) => {
      messages.inc();
      dataDuration.observe(durationMs / 1000);
    },
  };
}

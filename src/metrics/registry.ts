// Prometheus metrics of one mailgate Context. Each Context has its own registry (never the
// global default), so several contexts in one process (tests) do not collide. Labels carry ids,
// kinds and statuses only: never a URL (a webhook URL can hold a token) or a secret.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Clock } from "../context.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { registerDatabaseGauges } from "./database-gauges.ts";
import { createSmtpListenerMetrics, type SmtpListenerMetrics } from "./smtp-listener-metrics.ts";

const PING_TIMEOUT_MS = 2_000;

/** What became of one webhook attempt. */
export type DeliveryOutcome = "succeeded" | "retrying" | "exhausted" | "endpoint_gone";

/** Names the outcome from the dispatcher's verdict and the delivery's new status. */
export function deliveryOutcome(verdict: "success" | "retry" | "disable_endpoint", status: "pending" | "succeeded" | "exhausted"): DeliveryOutcome {
  if (verdict === "success") return "succeeded";
  if (verdict === "disable_endpoint") return "endpoint_gone";
  return status === "exhausted" ? "exhausted" : "retrying";
}

export type Metrics = {
  registry: Registry;
  /** A message left `received` for good: from when it was received to when its transaction committed. */
  observePipelineLatency(receivedAt: Date, committedAt: Date): void;
  recordDeliveryAttempt(endpointId: string, outcome: DeliveryOutcome, durationMs: number): void;
  /** One attempt to send an outgoing mail: sent, transient, permanent or waiting_for_authorization. */
  recordOutboundAttempt(outcome: string, durationMs: number): void;
  smtpListener: SmtpListenerMetrics;
  /** The exposition text: pings the database first, so a dead one answers quickly with mailgate_database_up 0. */
  render(): Promise<{ contentType: string; body: string }>;
};

export function createMetrics(deps: { database: Database; clock: Clock; log: Logger }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let up = false;

  const databaseUp = new Gauge({
    name: "mailgate_database_up",
    help: "1 when the database answered at the start of this scrape; 0 leaves the database-backed metrics out.",
    registers: [registry],
  });
  registerDatabaseGauges(registry, { db: deps.database.db, clock: deps.clock, log: deps.log, databaseUp: () => up });

  const pipelineLatency = new Histogram({
    name: "mailgate_pipeline_latency_seconds",
    help: "From an email's arrival (received_at) to the commit of its ticket, note or other outcome.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const deliveryAttempts = new Counter({
    name: "mailgate_webhook_delivery_attempts_total",
    help: "Webhook delivery attempts by endpoint id and outcome (succeeded, retrying, exhausted, endpoint_gone).",
    labelNames: ["endpoint", "outcome"],
    registers: [registry],
  });
  const deliveryDuration = new Histogram({
    name: "mailgate_webhook_delivery_duration_seconds",
    help: "Duration of each webhook delivery attempt, by endpoint id.",
    labelNames: ["endpoint"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60],
    registers: [registry],
  });

  const outboundAttempts = new Counter({
    name: "mailgate_outbound_attempts_total",
    help: "Attempts to send an outgoing mail, by outcome (sent, transient, permanent, waiting_for_authorization).",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const outboundDuration = new Histogram({
    name: "mailgate_outbound_send_duration_seconds",
    help: "How long the provider took to answer each attempt to send an outgoing mail.",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  return {
    registry,
    smtpListener: createSmtpListenerMetrics(registry),
    recordOutboundAttempt: (outcome, durationMs) => {
      outboundAttempts.inc({ outcome });
      outboundDuration.observe(durationMs / 1000);
    },
    observePipelineLatency: (receivedAt, committedAt) =>
      pipelineLatency.observe(Math.max(0, committedAt.getTime() - receivedAt.getTime()) / 1000),
    recordDeliveryAttempt: (endpointId, outcome, durationMs) => {
      deliveryAttempts.inc({ endpoint: endpointId, outcome });
      deliveryDuration.observe({ endpoint: endpointId }, durationMs / 1000);
    },
    render: async () => {
      up = await answersWithin(deps.database, PING_TIMEOUT_MS);
      databaseUp.set(up ? 1 : 0);
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

async function answersWithin(database: Database, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([database.ping().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

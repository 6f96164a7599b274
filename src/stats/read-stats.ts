// GET /api/stats's answer: the repository's counts, laid out on every bucket of the window
// (zeros where nothing happened), with totals, a line per source and what needs a person.
import type { Executor } from "../db/client.ts";
import {
  countAttention,
  countDeliveryAttempts,
  countOutbound,
  countProcessed,
  countReceived,
  listStatsSources,
  type Attention,
  type Latency,
  type ProcessedCounts,
  type ProcessedStatus,
  type StatsSource,
} from "../db/stats.ts";
import type { SourceKind, SourceStatus } from "../db/statuses.ts";
import { bucketIndex, bucketStarts, type BucketName, type StatsWindow } from "./stats-window.ts";

export type StatsCounts = {
  received: number;
  ticketCreated: number;
  noteAdded: number;
  leadCreated: number;
  ignored: number;
  duplicate: number;
  unrouted: number;
  failed: number;
  deliveriesSucceeded: number;
  deliveriesFailed: number;
  outboundSent: number;
  outboundFailed: number;
};
export type StatsFigures = StatsCounts & { latencyMs: Latency };

export type StatsView = {
  from: string;
  to: string;
  bucket: BucketName;
  bucketSeconds: number;
  buckets: ({ start: string } & StatsFigures)[];
  totals: StatsFigures;
  sources: { id: string; name: string; kind: SourceKind; status: SourceStatus; received: number[]; lastReceivedAt: string | null }[];
  attention: Attention;
};

export type StatsReads = {
  processed: ProcessedCounts[];
  received: Awaited<ReturnType<typeof countReceived>>;
  deliveries: Awaited<ReturnType<typeof countDeliveryAttempts>>;
  outbound: Awaited<ReturnType<typeof countOutbound>>;
  sources: StatsSource[];
  attention: Attention;
};

const STATUS_FIELDS: Record<ProcessedStatus, keyof StatsCounts> = {
  ticket_created: "ticketCreated",
  note_added: "noteAdded",
  lead_created: "leadCreated",
  ignored: "ignored",
  duplicate: "duplicate",
  unrouted: "unrouted",
  failed: "failed",
};

/** Side by side: on Postgres each read has a connection of its own; they need no common snapshot. */
export async function readStats(executor: Executor, window: StatsWindow, now: Date): Promise<StatsView> {
  const [processed, received, deliveries, outbound, sources, attention] = await Promise.all([
    countProcessed(executor, window),
    countReceived(executor, window),
    countDeliveryAttempts(executor, window),
    countOutbound(executor, window),
    listStatsSources(executor),
    countAttention(executor, now),
  ]);
  return layOutStats(window, { processed, received, deliveries, outbound, sources, attention });
}

export function layOutStats(window: StatsWindow, reads: StatsReads): StatsView {
  const buckets = bucketStarts(window).map((start) => ({ start: start.toISOString(), ...emptyFigures() }));
  const totals = emptyFigures();
  const perSource = new Map(reads.sources.map((s) => [s.id, new Array<number>(window.buckets).fill(0)]));
  // Every bucket start comes from the window's own grid in SQL; one off it would be a bug there.
  const indexOf = (start: Date) => {
    const i = bucketIndex(window, start);
    return buckets[i] ? i : fail(`bucket ${start.toISOString()} lies outside the window ${window.from.toISOString()}/${window.to.toISOString()}`);
  };
  const at = (start: Date) => buckets[indexOf(start)]!;

  for (const row of reads.processed) {
    const into = row.bucket === null ? totals : at(row.bucket);
    for (const [status, field] of Object.entries(STATUS_FIELDS) as [ProcessedStatus, keyof StatsCounts][]) into[field] = row.counts[status];
    into.latencyMs = row.latencyMs;
  }
  for (const row of reads.received) {
    at(row.bucket).received += row.count;
    totals.received += row.count;
    const line = row.sourceId === null ? undefined : perSource.get(row.sourceId);
    if (line) line[indexOf(row.bucket)] = row.count;
  }
  for (const row of reads.deliveries) {
    Object.assign(at(row.bucket), { deliveriesSucceeded: row.succeeded, deliveriesFailed: row.failed });
    totals.deliveriesSucceeded += row.succeeded;
    totals.deliveriesFailed += row.failed;
  }
  for (const row of reads.outbound) {
    Object.assign(at(row.bucket), { outboundSent: row.sent, outboundFailed: row.failed });
    totals.outboundSent += row.sent;
    totals.outboundFailed += row.failed;
  }

  return {
    from: window.from.toISOString(),
    to: window.to.toISOString(),
    bucket: window.bucket,
    bucketSeconds: window.bucketSeconds,
    buckets,
    totals,
    sources: reads.sources.map((s) => ({
      id: s.id,
      name: s.name,
      kind: s.kind,
      status: s.status,
      received: perSource.get(s.id)!,
      lastReceivedAt: s.lastReceivedAt?.toISOString() ?? null,
    })),
    attention: reads.attention,
  };
}

function emptyFigures(): StatsFigures {
  return {
    received: 0,
    ticketCreated: 0,
    noteAdded: 0,
    leadCreated: 0,
    ignored: 0,
    duplicate: 0,
    unrouted: 0,
    failed: 0,
    deliveriesSucceeded: 0,
    deliveriesFailed: 0,
    outboundSent: 0,
    outboundFailed: 0,
    latencyMs: { count: 0, p50: null, p95: null },
  };
}

function fail(message: string): never {
  throw new Error(message);
}

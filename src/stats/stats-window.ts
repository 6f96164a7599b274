// Which window and which buckets GET /api/stats counts over: a pure decision over the query and
// the clock.
//
// Glossary
//   window    [from, to): the instants counted, widened to whole buckets
//   bucket    one slice of the window, `bucketSeconds` long, starting on a multiple of its size
//             since the Unix epoch (so in UTC: minutes, hours, days start where a UTC clock says)
//   span      to − from as asked, before widening: what the default bucket is chosen from
import type { FieldProblem } from "../errors.ts";

export const BUCKET_SECONDS = { minute: 60, "5m": 300, "15m": 900, hour: 3600, day: 86_400 } as const;
export type BucketName = keyof typeof BUCKET_SECONDS;
export const BUCKET_NAMES = Object.keys(BUCKET_SECONDS) as [BucketName, ...BucketName[]];

export const MAX_BUCKETS = 2000;
export const DEFAULT_SPAN_MS = 24 * 3600_000;

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The bucket a window gets when the query names none: the largest span each size still draws as
 * a readable line (60–200 points for the console's hour, day and week).
 */
const DEFAULT_BUCKETS: { upToMs: number; bucket: BucketName }[] = [
  { upToMs: 2 * HOUR_MS, bucket: "minute" },
  { upToMs: 12 * HOUR_MS, bucket: "5m" },
  { upToMs: 2 * DAY_MS, bucket: "15m" },
  { upToMs: 14 * DAY_MS, bucket: "hour" },
];

export function defaultBucket(spanMs: number): BucketName {
  return DEFAULT_BUCKETS.find((d) => spanMs <= d.upToMs)?.bucket ?? "day";
}

export type StatsWindow = { from: Date; to: Date; bucket: BucketName; bucketSeconds: number; buckets: number };
export type WindowQuery = { from?: Date; to?: Date; bucket?: BucketName };
export type WindowPlan = { kind: "window"; window: StatsWindow } | { kind: "invalid"; problems: FieldProblem[] };

/**
 * `to` defaults to now and `from` to 24 hours before `to`; `from` is then rounded down and `to`
 * up to the bucket size, so the first and last buckets are whole ones.
 */
export function planStatsWindow(query: WindowQuery, now: Date): WindowPlan {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - DEFAULT_SPAN_MS);
  if (from.getTime() >= to.getTime()) {
    const field = query.from ? "from" : "to";
    return invalid(field, `must be earlier than to (from ${from.toISOString()}, to ${to.toISOString()}); swap them or widen the window`);
  }
  const bucket = query.bucket ?? defaultBucket(to.getTime() - from.getTime());
  const sizeMs = BUCKET_SECONDS[bucket] * 1000;
  const start = Math.floor(from.getTime() / sizeMs) * sizeMs;
  const end = Math.ceil(to.getTime() / sizeMs) * sizeMs;
  const buckets = (end - start) / sizeMs;
  if (buckets > MAX_BUCKETS) {
    const remedy = query.bucket && bucket !== "day" ? "choose a larger bucket or a shorter window" : "choose a shorter window";
    return invalid(query.bucket ? "bucket" : "from", `the window holds ${buckets} buckets of ${bucket}, more than ${MAX_BUCKETS}; ${remedy}`);
  }
  return { kind: "window", window: { from: new Date(start), to: new Date(end), bucket, bucketSeconds: BUCKET_SECONDS[bucket], buckets } };
}

/** The start of every bucket of the window, in order. */
export function bucketStarts(window: StatsWindow): Date[] {
  return Array.from({ length: window.buckets }, (_, i) => new Date(window.from.getTime() + i * window.bucketSeconds * 1000));
}

/** Which bucket of the window starts at `start` (a bucket start the database computed on the same grid). */
export function bucketIndex(window: StatsWindow, start: Date): number {
  return Math.round((start.getTime() - window.from.getTime()) / (window.bucketSeconds * 1000));
}

const invalid = (field: string, message: string): WindowPlan => ({ kind: "invalid", problems: [{ field, message }] });

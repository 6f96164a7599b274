// Which stretch of time each of the overview's views asks GET /api/stats for. Every window ends at
// the end of the bucket now falls in, so the buckets are whole ones and the last is the one filling.

export const WINDOWS = [
  { key: "1h", label: "Last hour", seconds: 3600, bucket: "minute", bucketSeconds: 60 },
  { key: "24h", label: "24 hours", seconds: 86_400, bucket: "15m", bucketSeconds: 900 },
  { key: "7d", label: "7 days", seconds: 604_800, bucket: "hour", bucketSeconds: 3600 },
];

export const DEFAULT_WINDOW = "24h";

/** The sparklines: 24 hourly buckets. */
export const SPARKLINE = { seconds: 86_400, bucket: "hour", bucketSeconds: 3600 };

/** "Mail in the last hour" on a source's tile: the last 60 minutes, counted by the minute. */
export const LAST_HOUR = WINDOWS[0];

/** The query string of GET /api/stats for a window ending with the bucket that holds `now` (ms). */
export function statsQuery({ seconds, bucket, bucketSeconds }, now) {
  const end = (Math.floor(now / 1000 / bucketSeconds) + 1) * bucketSeconds;
  const iso = (s) => new Date(s * 1000).toISOString();
  return `from=${encodeURIComponent(iso(end - seconds))}&to=${encodeURIComponent(iso(end))}&bucket=${bucket}`;
}

/** The range a chart's time axis spans for a stats answer: its whole window, even where no bucket has mail. */
export const windowRange = (stats) => [Date.parse(stats.from) / 1000, Date.parse(stats.to) / 1000];

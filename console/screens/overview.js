// Overview, the landing page: what needs a person, one tile per source, and the mail flow over a
// chosen window (last hour, 24 hours, 7 days), all from GET /api/stats (counted from the stored
// rows, so every instance shows the same) and GET /api/sources.
import { api, listAll } from "../api.js";
import { badge, h, replace, when } from "../dom.js";
import { bucketMiddles, chartFigure, lines, sparkline, stackedBars } from "../charts.js";
import { KIND_LABELS } from "./source-labels.js";
import { DEFAULT_WINDOW, LAST_HOUR, SPARKLINE, WINDOWS, statsQuery, windowRange } from "./stats-windows.js";

const REFRESH_MS = 30_000;

const COLORS = {
  received: "#18212e", ticketCreated: "#1b7a3d", noteAdded: "#2c7fb8", leadCreated: "#7b4bb7",
  ignored: "#9aa4b1", duplicate: "#c3c9d1", unrouted: "#d08c00", failed: "#b3261e",
  p50: "#1f5fbf", p95: "#b3261e", succeeded: "#1b7a3d", sparkline: "#1f5fbf",
};

// Mail's outcomes, bottom layer first; "received" is the line over them.
const MAIL_LAYERS = [
  ["ticketCreated", "Tickets created"],
  ["noteAdded", "Notes added"],
  ["leadCreated", "Leads"],
  ["ignored", "Ignored"],
  ["duplicate", "Duplicates"],
  ["unrouted", "Unrouted"],
  ["failed", "Failed"],
];

// What needs a person, and the screen where it is handled (none for outgoing mail: its ticket).
const ATTENTION = [
  ["unrouted", "unrouted emails wait for their domain to be mapped", "#/inbox/unrouted"],
  ["failed", "emails failed to process", "#/inbox/failed"],
  ["sourcesInError", "sources in error", "#/sources"],
  ["sourcesNeedingReauth", "sources need re-authorization", "#/sources"],
  ["subscriptionsExpiringWithinDay", "subscriptions expire within a day", "#/subscriptions"],
  ["endpointsFailing", "webhook endpoints failing", "#/webhooks"],
  ["endpointsDisabled", "webhook endpoints disabled", "#/webhooks"],
  ["deliveriesBacklog", "webhook deliveries waiting to be delivered", "#/webhooks"],
  ["outboundFailed", "outgoing emails failed (retry them from their ticket)", null],
];

export async function render(main, route) {
  const view = WINDOWS.find((w) => w.key === route.params[0]) ?? WINDOWS.find((w) => w.key === DEFAULT_WINDOW);
  const attention = h("section", { class: "card attention", "aria-labelledby": "attention-title" }, h("h2", { id: "attention-title" }, "Needs a person"), h("p", { class: "muted" }, "Loading…"));
  const tileList = h("div", {}, h("p", { class: "muted" }, "Loading sources…"));
  const tiles = h("section", { "aria-labelledby": "sources-title" }, h("h2", { id: "sources-title" }, "Sources"), tileList);
  const charts = h("div", { class: "charts", "aria-live": "polite" }, h("p", { class: "muted" }, "Loading the numbers…"));
  replace(
    main,
    h("div", { class: "head" }, h("h1", {}, "Overview"), h("button", { type: "button", onclick: () => refresh() }, "Refresh")),
    h("p", { class: "lead" }, "How mail is flowing and what needs a person, counted from the stored mail, tickets and deliveries."),
    attention,
    tiles,
    h("nav", { class: "tabs", "aria-label": "Time window" }, WINDOWS.map((w) => h("a", { href: `#/overview/${w.key}`, "aria-current": w.key === view.key ? "page" : null }, w.label))),
    charts,
  );

  let destroyers = [];
  const destroyCharts = () => {
    destroyers.forEach((destroy) => destroy());
    destroyers = [];
  };

  const refresh = async () => {
    const now = Date.now();
    // One request per distinct query: in the last-hour view the tiles' hour is the charts' window.
    const asked = new Map();
    const stats = (window) => {
      const query = statsQuery(window, now);
      if (!asked.has(query)) asked.set(query, api.get(`/stats?${query}`));
      return asked.get(query);
    };
    const [sources, main, spark, lastHour] = await Promise.all([
      listAll("/sources"),
      ...[view, SPARKLINE, LAST_HOUR].map((w) => stats(w).then((value) => ({ value }), (error) => ({ error }))),
    ]);
    destroyCharts();
    replace(tileList, sourceTiles(sources, spark.value, lastHour.value, destroyers));
    if (main.error) {
      replace(attention, attention.firstChild, h("p", { class: "problem", role: "alert" }, `The numbers could not be loaded: ${main.error.message}`));
      replace(charts);
      return;
    }
    replace(attention, attention.firstChild, attentionList(main.value.attention));
    // Drawn once in the page, so each chart takes its container's width.
    const { figures: shown, draw } = flowCharts(main.value, view);
    replace(charts, shown);
    destroyers.push(...draw());
  };

  await refresh().catch((err) => replace(charts, h("p", { class: "problem", role: "alert" }, err.message)));
  const timer = setInterval(() => refresh().catch(() => undefined), REFRESH_MS);
  return () => {
    clearInterval(timer);
    destroyCharts();
  };
}

function attentionList(counts) {
  const items = ATTENTION.filter(([key]) => (counts?.[key] ?? 0) > 0).map(([key, words, href]) => {
    const text = [h("strong", { class: "count" }, counts[key].toLocaleString()), ` ${words}`];
    return h("li", { "data-attention": key }, href ? h("a", { href }, text) : text);
  });
  return items.length ? h("ul", { class: "attention-list" }, items) : h("p", { class: "ok-text" }, "Nothing needs a person right now.");
}

const sum = (values) => (values ?? []).reduce((a, b) => a + (b ?? 0), 0);

function sourceTiles(sources, spark, lastHour, destroyers) {
  if (sources.length === 0) {
    return h("p", { class: "empty" }, "No email sources yet. ", h("a", { href: "#/sources/new/imap" }, "Add Email Source"), " to connect Gmail, Microsoft 365 or an IMAP mailbox.");
  }
  const sparkOf = new Map((spark?.sources ?? []).map((s) => [s.id, s]));
  const hourOf = new Map((lastHour?.sources ?? []).map((s) => [s.id, s]));
  return h(
    "ul",
    { class: "tiles" },
    sources.map((s) => {
      const line = h("div", { class: "sparkline" });
      const perHour = sparkOf.get(s.id)?.received;
      const inLastHour = hourOf.has(s.id) ? sum(hourOf.get(s.id).received) : null;
      const reason = s.status === "connected" ? null : s.lastError ?? (s.status === "connecting" ? "Connecting…" : null);
      const tile = h(
        "li",
        { class: "tile", "data-source-id": s.id },
        h("div", { class: "tile-head" }, h("a", { href: `#/sources/edit/${s.id}`, class: "tile-name" }, s.name), badge(s.status)),
        h("div", { class: "small muted" }, `${KIND_LABELS[s.kind] ?? s.kind} · ${s.address}`),
        reason ? h("div", { class: "small error-text tile-reason" }, reason) : null,
        h("dl", { class: "tile-facts" },
          h("div", {}, h("dt", {}, "Last processed"), h("dd", {}, when(s.lastProcessedAt))),
          h("div", { "data-fact": "last-hour" }, h("dt", {}, "Mail in the last hour"), h("dd", { "data-value": inLastHour ?? "" }, inLastHour === null ? "—" : inLastHour.toLocaleString()))),
        line,
      );
      if (perHour && spark) {
        const x = spark.buckets.map((b) => Date.parse(b.start) / 1000);
        destroyers.push(sparkline(line, { x, values: perHour, color: COLORS.sparkline, label: `${sum(perHour)} emails received in the last 24 hours, by the hour` }));
      }
      return tile;
    }),
  );
}

/** The figures a chart draws, as a list of label and number (data-total names the stats field). */
function figures(entries) {
  return h("dl", { class: "totals" }, entries.map(([key, label, value, shown]) =>
    h("div", { "data-total": key }, h("dt", {}, label), h("dd", { "data-value": value ?? "" }, shown ?? (value ?? 0).toLocaleString()))));
}

export const formatMs = (ms) => (ms === null || ms === undefined ? "—" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

function flowCharts(stats, view) {
  const x = bucketMiddles(stats.buckets, stats.bucketSeconds);
  const range = windowRange(stats);
  const column = (key) => stats.buckets.map((b) => b[key] ?? 0);
  const t = stats.totals;
  const over = view.label === "Last hour" ? "the last hour" : `the last ${view.label}`;

  const mail = chartFigure("Mail", figures([["received", "Received", t.received], ...MAIL_LAYERS.map(([key, label]) => [key, label, t[key]])]));
  const latency = chartFigure("Time to ticket", figures([
    ["latencyP50", "Median (p50)", t.latencyMs?.p50, formatMs(t.latencyMs?.p50)],
    ["latencyP95", "p95", t.latencyMs?.p95, formatMs(t.latencyMs?.p95)],
    ["latencyCount", "Emails timed", t.latencyMs?.count],
  ]));
  const deliveries = chartFigure("Webhook deliveries", figures([
    ["deliveriesSucceeded", "Succeeded", t.deliveriesSucceeded],
    ["deliveriesFailed", "Failed", t.deliveriesFailed],
    ["deliveriesBacklog", "Waiting now", stats.attention?.deliveriesBacklog],
  ]));
  const outgoing = chartFigure("Outgoing mail", figures([
    ["outboundSent", "Sent", t.outboundSent],
    ["outboundFailed", "Failed", t.outboundFailed],
  ]));

  const percentile = (key) => stats.buckets.map((b) => (b.latencyMs?.count ? b.latencyMs[key] : null));
  const draw = () => [
    stackedBars(mail.canvas, {
      x, range, label: `Mail over ${over}: ${t.received} received, by outcome`,
      layers: MAIL_LAYERS.map(([key, label]) => ({ label, color: COLORS[key], values: column(key) })),
      line: { label: "Received", color: COLORS.received, values: column("received") },
    }),
    lines(latency.canvas, {
      x, range, format: formatMs, label: `Time from the provider's signal to the ticket over ${over}: p50 ${formatMs(t.latencyMs?.p50)}, p95 ${formatMs(t.latencyMs?.p95)}`,
      series: [{ label: "p50", color: COLORS.p50, values: percentile("p50") }, { label: "p95", color: COLORS.p95, values: percentile("p95") }],
    }),
    stackedBars(deliveries.canvas, {
      x, range, label: `Webhook deliveries over ${over}: ${t.deliveriesSucceeded} succeeded, ${t.deliveriesFailed} failed`,
      layers: [{ label: "Succeeded", color: COLORS.succeeded, values: column("deliveriesSucceeded") }, { label: "Failed", color: COLORS.failed, values: column("deliveriesFailed") }],
    }),
    stackedBars(outgoing.canvas, {
      x, range, label: `Outgoing mail over ${over}: ${t.outboundSent} sent, ${t.outboundFailed} failed`,
      layers: [{ label: "Sent", color: COLORS.succeeded, values: column("outboundSent") }, { label: "Failed", color: COLORS.failed, values: column("outboundFailed") }],
    }),
  ];
  return { figures: [mail.figure, latency.figure, deliveries.figure, outgoing.figure], draw };
}

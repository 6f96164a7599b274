// Charts over time buckets, drawn by uPlot (served by mailgate at /console/vendor/uplot/). Each
// chart is a <figure> whose picture is a canvas and whose words are the caption and a summary for
// screen readers; the numbers themselves are always also shown as text beside the chart.
//
// Glossary
//   bucket   one stretch of time the stats API counts over: {start, ...counts}
//   layer    one count drawn as a part of a stacked bar (tickets, notes, ...)
//   x        a bucket's middle, in Unix seconds: a bar stands over the stretch it counts
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";

const HEIGHT = 220;
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];

/** The x values of buckets: their middles, in seconds. */
export const bucketMiddles = (buckets, bucketSeconds) => buckets.map((b) => Date.parse(b.start) / 1000 + bucketSeconds / 2);

/**
 * Stacked bars, one layer per count, with an optional line over them (e.g. mail received, which the
 * layers split into outcomes). Stacking is drawn by painting each bar from zero to the sum of its
 * layer and those below it, the tallest first: the lower layers paint over the bottom of it.
 */
export function stackedBars(container, { x, range, layers, line, label }) {
  const sums = [];
  let running = x.map(() => 0);
  for (const layer of layers) {
    running = running.map((v, i) => v + (layer.values[i] ?? 0));
    sums.push(running);
  }
  const bars = uPlot.paths.bars({ size: [0.8, 48], align: 0 });
  const drawn = layers.map((layer, i) => ({ layer, values: sums[i] })).reverse();
  const series = [
    {},
    ...drawn.map(({ layer }) => ({
      label: layer.label,
      fill: layer.color,
      stroke: layer.color,
      width: 0,
      paths: bars,
      points: { show: false },
      value: (_u, _v, _si, i) => (i === null || i === undefined ? "—" : String(layer.values[i] ?? 0)),
    })),
  ];
  const data = [x, ...drawn.map((d) => d.values)];
  if (line) {
    // Points only where there is mail: a row of dots along zero would hide the bars' baseline.
    const marked = () => line.values.flatMap((v, i) => (v > 0 ? [i] : []));
    series.push({ label: line.label, stroke: line.color, width: 2, points: { show: true, size: 5, fill: line.color, filter: marked }, value: (_u, v) => (v === null || v === undefined ? "—" : String(v)) });
    data.push(line.values);
  }
  return mount(container, label, {
    series,
    scales: { x: { time: true, range: () => range }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.1))] } },
    axes: [{}, { incrs: COUNT_STEPS, values: (_u, splits) => splits.map((v) => v.toLocaleString()), size: 50 }],
  }, data);
}

/** Lines (latency percentiles): a bucket without a value leaves a gap, not a zero. */
export function lines(container, { x, range, series: lineSeries, label, format }) {
  return mount(container, label, {
    series: [
      {},
      ...lineSeries.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, points: { show: true, size: 5, fill: s.color }, value: (_u, v) => (v === null || v === undefined ? "—" : format(v)) })),
    ],
    scales: { x: { time: true, range: () => range }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] } },
    axes: [{}, { values: (_u, splits) => splits.map(format), size: 64 }],
  }, [x, ...lineSeries.map((s) => s.values)]);
}

/** A tiny area line without axes, legend or cursor: the shape of the last 24 hours. */
export function sparkline(container, { x, values, color, label }) {
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", label);
  const chart = new uPlot(
    {
      width: 140,
      height: 36,
      class: "sparkline-chart",
      legend: { show: false },
      cursor: { show: false },
      select: { show: false },
      padding: [3, 2, 2, 2],
      series: [{}, { stroke: color, fill: `${color}33`, width: 1.5, points: { show: false } }],
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 0)] } },
      axes: [{ show: false }, { show: false }],
    },
    [x, values],
    container,
  );
  return () => chart.destroy();
}

/** A chart as wide as its container, kept so as the page's width changes. */
function mount(container, label, opts, data) {
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", label);
  const width = () => Math.max(280, container.clientWidth);
  const chart = new uPlot({ width: width(), height: HEIGHT, legend: { live: true }, cursor: { drag: { x: false, y: false } }, ...opts }, data, container);
  const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: HEIGHT }));
  resize.observe(container);
  return () => {
    resize.disconnect();
    chart.destroy();
  };
}

/** A <figure> holding a chart's container, its caption and the figures it draws, as text. */
export function chartFigure(title, figures) {
  const canvas = h("div", { class: "chart" });
  const figure = h("figure", { class: "card chart-card" }, h("figcaption", {}, h("h2", {}, title)), canvas, figures);
  return { figure, canvas };
}

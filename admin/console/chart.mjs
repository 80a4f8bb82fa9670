// Traffic charts as small inline SVG (no chart library): one line per series over the points of the
// metrics API (`{t, requests, error_rate, p95_ms, …}`). Pure: answers markup, so it is tested in node.

const W = 300;
const H = 120;
const PAD = { left: 36, right: 6, top: 8, bottom: 18 };

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The polyline's points for `values` (nulls skipped) scaled into the plot area; `max` is the top. */
export function linePoints(values, max) {
  const n = values.length;
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const top = max > 0 ? max : 1;
  const out = [];
  values.forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return;
    const x = PAD.left + (n === 1 ? iw / 2 : (i * iw) / (n - 1));
    const y = PAD.top + ih - (Math.max(0, Number(v)) / top) * ih;
    out.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  return out.join(" ");
}

/**
 * An SVG line chart of `points[i][field]`: `title` names it for screen readers, `format` renders the
 * axis' top value. Answers the markup, or a sentence when there is nothing to draw.
 */
export function lineChart(points, { field, title, format = (v) => String(v) }) {
  const values = (points ?? []).map((p) => (p?.[field] === undefined ? null : p[field]));
  const present = values.filter((v) => v !== null && Number.isFinite(Number(v))).map(Number);
  if (present.length === 0) return `<p class="state">No ${esc(title.toLowerCase())} in this range.</p>`;
  const max = Math.max(...present);
  const first = points[0]?.t ?? "";
  const last = points[points.length - 1]?.t ?? "";
  const base = H - PAD.bottom;
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}: ${present.length} points, highest ${esc(format(max))}">` +
    `<title>${esc(title)}</title>` +
    `<line class="axis" x1="${PAD.left}" y1="${base}" x2="${W - PAD.right}" y2="${base}"/>` +
    `<line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${base}"/>` +
    `<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${esc(format(max))}</text>` +
    `<text x="${PAD.left - 4}" y="${base}" text-anchor="end">0</text>` +
    `<text x="${PAD.left}" y="${H - 4}">${esc(String(first).slice(11, 16))}</text>` +
    `<text x="${W - PAD.right}" y="${H - 4}" text-anchor="end">${esc(String(last).slice(11, 16))}</text>` +
    `<polyline class="line" points="${linePoints(values, max)}"/>` +
    `</svg>`
  );
}

/** The three charts of a tenant's page, from a metrics answer; `null` when metrics are off. */
export function trafficCharts(metrics) {
  if (!metrics || metrics.enabled !== true) return null;
  const pts = metrics.points ?? [];
  return [
    { title: "Requests per step", html: lineChart(pts, { field: "requests", title: "Requests", format: (v) => String(Math.round(v)) }) },
    { title: "Error rate (5xx)", html: lineChart(pts, { field: "error_rate", title: "Error rate", format: (v) => `${(v * 100).toFixed(1)}%` }) },
    { title: "Latency p95 (ms)", html: lineChart(pts, { field: "p95_ms", title: "Latency p95", format: (v) => `${Math.round(v)} ms` }) },
  ];
}

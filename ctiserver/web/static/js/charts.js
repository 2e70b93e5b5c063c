// Small dependency-free SVG charts for the wallboard: bars (volume) and a line with a target (service level).
const NS = "http://www.w3.org/2000/svg";

function node(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

function frame(svg) {
  const w = svg.clientWidth || 600;
  const h = svg.clientHeight || 220;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.replaceChildren();
  return { w, h, left: 36, right: 8, top: 10, bottom: 24 };
}

function xLabels(svg, f, labels, step) {
  const every = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((label, i) => {
    if (i % every) return;
    svg.append(node("text", { x: f.left + i * step + step / 2, y: f.h - 6, "text-anchor": "middle" }, label));
  });
}

// series: [{label, values: [...], color}] stacked bars
export function barChart(svg, labels, series, emptyText = "") {
  const f = frame(svg);
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const max = Math.max(1, ...totals);
  if (!labels.length) { svg.append(node("text", { x: f.w / 2, y: f.h / 2, "text-anchor": "middle" }, emptyText)); return; }
  const plotH = f.h - f.top - f.bottom;
  const step = (f.w - f.left - f.right) / labels.length;
  svg.append(node("text", { x: 4, y: f.top + 8 }, String(max)));
  labels.forEach((_, i) => {
    let y = f.h - f.bottom;
    for (const s of series) {
      const v = s.values[i] || 0;
      const hgt = (v / max) * plotH;
      y -= hgt;
      if (v) svg.append(node("rect", { x: f.left + i * step + 2, y, width: Math.max(1, step - 4), height: hgt, fill: s.color }, undefined));
    }
  });
  xLabels(svg, f, labels, step);
  series.forEach((s, i) => svg.append(node("text", { x: f.w - 8, y: f.top + 10 + i * 13, "text-anchor": "end", fill: s.color }, s.label)));
}

// values in 0..1 (or null for no calls); target in 0..1
export function lineChart(svg, labels, values, target, emptyText = "") {
  const f = frame(svg);
  if (!labels.length) { svg.append(node("text", { x: f.w / 2, y: f.h / 2, "text-anchor": "middle" }, emptyText)); return; }
  const plotH = f.h - f.top - f.bottom;
  const step = (f.w - f.left - f.right) / labels.length;
  const y = (v) => f.h - f.bottom - v * plotH;
  for (const p of [0, 0.5, 1]) svg.append(node("text", { x: 4, y: y(p) + 4 }, `${p * 100}%`));
  if (target !== null && target !== undefined) {
    svg.append(node("line", { x1: f.left, x2: f.w - f.right, y1: y(target), y2: y(target), stroke: "#d97706", "stroke-dasharray": "4 4" }));
  }
  let d = "";
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const x = f.left + i * step + step / 2;
    d += `${d ? "L" : "M"}${x.toFixed(1)},${y(v).toFixed(1)}`;
    svg.append(node("circle", { cx: x, cy: y(v), r: 3, fill: v >= (target ?? 0) ? "#16a34a" : "#dc2626" }));
  });
  if (d) svg.prepend(node("path", { d, fill: "none", stroke: "#2563eb", "stroke-width": 2 }));
  xLabels(svg, f, labels, step);
}

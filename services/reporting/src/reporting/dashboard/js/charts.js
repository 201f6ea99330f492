// Small inline-SVG charts drawn at the container's pixel width (so text stays readable on a phone).
// Every drawn number carries data-figure / data-value (or data-suppressed) so tests can read it back.

const SVG = "http://www.w3.org/2000/svg";
export const COLOURS = ["#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6a4c93", "#00798c"];

export function el(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  if (text !== null) node.textContent = text;
  return node;
}

function svg(width, height, label) {
  return el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
}

function mark(node, figure, cell) {
  node.setAttribute("data-figure", figure);
  if (cell.suppressed) node.setAttribute("data-suppressed", "true");
  else node.setAttribute("data-value", String(cell.value));
  return node;
}

// Rows of {label, cell: {value, suppressed}, target, figure, strong}: a bar per row, value/target beside it.
export function progressBars(container, rows, fmt, title) {
  const width = Math.max(container.clientWidth, 260);
  const labelWidth = Math.min(Math.round(width * 0.36), 170);
  const textWidth = Math.min(Math.round(width * 0.3), 130);
  const barWidth = width - labelWidth - textWidth - 12;
  const rowHeight = 26;
  const chart = svg(width, rows.length * rowHeight + 6, title);
  const scale = Math.max(1, ...rows.map((r) => (r.target ? 0 : r.cell.value || 0)));
  rows.forEach((row, index) => {
    const y = index * rowHeight + 4;
    chart.append(el("text", { x: 0, y: y + 15, class: row.strong ? "label strong" : "label" }, row.label));
    chart.append(el("rect", { x: labelWidth, y: y + 3, width: barWidth, height: 14, class: "track" }));
    const bar = { x: labelWidth, y: y + 3, height: 14 };
    if (row.cell.suppressed) {
      chart.append(el("rect", { ...bar, width: barWidth, class: "suppressed-bar" }));
    } else {
      const share = row.target ? row.cell.value / row.target : row.cell.value / scale;
      chart.append(el("rect", { ...bar, width: Math.round(barWidth * Math.min(share, 1)),
        class: share >= 1 ? "bar done" : "bar" }));
    }
    const text = row.cell.suppressed ? fmt.suppressed : fmt.number(row.cell.value);
    const label = el("text", { x: labelWidth + barWidth + 6, y: y + 15, class: "value" });
    label.append(mark(el("tspan", {}, text), row.figure, row.cell));
    if (row.target) label.append(el("tspan", { class: "target" }, ` / ${fmt.number(row.target)}`));
    chart.append(label);
  });
  container.append(chart);
}

// Series of {key, label, points: [{month, cell}]} over the same months: one line each, gaps where suppressed.
export function lineChart(container, months, series, fmt, title) {
  const width = Math.max(container.clientWidth, 260);
  const height = 220;
  const pad = { left: 36, right: 8, top: 10, bottom: 40 };
  const values = series.flatMap((s) => s.points.filter((p) => !p.cell.suppressed).map((p) => p.cell.value));
  const top = niceTop(Math.max(1, ...values));
  const x = (i) => pad.left + (months.length < 2 ? 0 : i * (width - pad.left - pad.right) / (months.length - 1));
  const y = (v) => pad.top + (height - pad.top - pad.bottom) * (1 - v / top);
  const chart = svg(width, height, title);
  for (const tick of [0, top / 2, top]) {
    chart.append(el("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }));
    chart.append(el("text", { x: pad.left - 4, y: y(tick) + 4, class: "axis end" }, fmt.number(tick)));
  }
  const every = Math.ceil(months.length / Math.max(1, Math.floor((width - pad.left) / 48)));
  months.forEach((month, i) => {
    if (i % every === 0) chart.append(el("text", { x: x(i), y: height - pad.bottom + 16, class: "axis middle" },
      fmt.month(month)));
  });
  series.forEach((line, index) => {
    const colour = COLOURS[index % COLOURS.length];
    let path = "";
    line.points.forEach((point, i) => {
      if (point.cell.suppressed) { path += " "; return; }
      path += `${path === "" || path.endsWith(" ") ? "M" : "L"}${x(i).toFixed(1)},${y(point.cell.value).toFixed(1)}`;
    });
    chart.append(el("path", { d: path.trim().replace(/ +/g, " "), stroke: colour, class: "line" }));
    line.points.forEach((point, i) => {
      const figure = `${line.key}|${point.month}`;
      const dot = point.cell.suppressed
        ? el("text", { x: x(i), y: y(0) - 4, class: "axis middle suppressed-mark" }, "×")
        : el("circle", { cx: x(i), cy: y(point.cell.value), r: 3, fill: colour });
      dot.append(el("title", {}, `${line.label} ${fmt.month(point.month)}: ${point.cell.suppressed
        ? fmt.suppressed : fmt.number(point.cell.value)}`));
      chart.append(mark(dot, figure, point.cell));
    });
  });
  container.append(chart);
  container.append(legend(series.map((s, i) => ({ label: s.label, colour: COLOURS[i % COLOURS.length] }))));
}

function legend(entries) {
  const list = document.createElement("ul");
  list.className = "legend";
  for (const entry of entries) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = entry.colour;
    item.append(swatch, document.createTextNode(entry.label));
    list.append(item);
  }
  return list;
}

function niceTop(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * magnitude >= value) * magnitude;
  return Math.max(step, 2);
}

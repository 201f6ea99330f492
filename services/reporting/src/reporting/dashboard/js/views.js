// The dashboard's sections, drawn from a Model (model.js) with the current language's words (t) and formats (fmt).

import { lineChart, progressBars } from "./charts.js";
import { FUNNEL, TARGETED, TREND } from "./model.js";

function html(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  if (text !== null) node.textContent = text;
  return node;
}

function figure(node, key, cell, fmt) {
  node.setAttribute("data-figure", key);
  if (cell.suppressed) {
    node.setAttribute("data-suppressed", "true");
    node.classList.add("suppressed");
    node.textContent = fmt.suppressed;
  } else {
    node.setAttribute("data-value", String(cell.value));
    node.textContent = fmt.number(cell.value);
  }
  return node;
}

function table(headers, rows) {
  const grid = html("table");
  const head = grid.createTHead().insertRow();
  for (const header of headers) head.append(html("th", { scope: "col" }, header));
  const body = grid.createTBody();
  for (const cells of rows) {
    const row = body.insertRow();
    for (const cell of cells) row.append(cell instanceof Node ? cell : html("td", {}, cell));
  }
  return grid;
}

export function drawTargets(model, t, fmt) {
  const cards = document.getElementById("target-cards");
  const charts = document.getElementById("target-charts");
  cards.replaceChildren();
  charts.replaceChildren();
  const home = model.region;
  for (const indicator of [...TARGETED, "providers_with_agreement_in_force"]) {
    const cell = model.cell(indicator, home);
    const target = model.target(indicator, home);
    const card = html("div", { class: "card" });
    card.append(html("p", { class: "card-title" }, t(`indicator.${indicator}`)));
    card.append(figure(html("p", { class: "card-value" }), `${indicator}|${home}`, cell, fmt));
    card.append(html("p", { class: "card-target", "data-target": target ?? "" },
      target ? t("of_target", { target: fmt.number(target) }) : t("no_target")));
    if (target && !cell.suppressed) {
      const meter = html("meter", { min: 0, max: target, value: Math.min(cell.value, target) });
      card.append(meter);
    }
    cards.append(card);
  }
  const rows = model.rows();
  if (!rows.length) return;
  for (const indicator of TARGETED) {
    const block = html("div", { class: "chart", "data-chart": `targets-${indicator}` });
    block.append(html("h3", {}, t(`indicator.${indicator}`)));
    charts.append(block);
    progressBars(block, rows.map((row) => ({
      label: row.level === "village" ? `· ${row.code}` : row.code,
      strong: row.level !== "village",
      cell: model.cell(indicator, row.code),
      target: model.target(indicator, row.code),
      figure: `${indicator}|${row.code}`,
    })), fmt, t(`indicator.${indicator}`));
  }
}

export function drawTrends(model, t, fmt) {
  const container = document.getElementById("trend-chart");
  container.replaceChildren();
  const months = model.months();
  const series = TREND.map((indicator) => ({
    key: indicator, label: t(`indicator.${indicator}`),
    points: months.map((month) => ({ month, cell: model.cell(indicator, model.region, month) })),
  }));
  lineChart(container, months, series, fmt, t("trends_title"));
}

export function drawFunnel(model, t, fmt) {
  const container = document.getElementById("funnel-chart");
  container.replaceChildren();
  const issued = model.cell("referrals_issued", model.region);
  progressBars(container, FUNNEL.map((indicator) => ({
    label: t(`indicator.${indicator}`), strong: indicator === "referrals_issued",
    cell: model.cell(indicator, model.region),
    target: issued.suppressed || !issued.value ? null : issued.value,
    figure: `${indicator}|${model.region}`,
  })), fmt, t("funnel_title"));
  const timeliness = document.getElementById("timeliness");
  timeliness.replaceChildren();
  if (model.timeliness === null) {
    timeliness.append(html("p", { class: "muted" }, t("not_in_feed")));
    return;
  }
  const days = (value) => (value === null ? "–" : fmt.decimal(value));
  timeliness.append(table([t("step"), t("referrals"), t("median_days"), t("p90_days")],
    model.timeliness.map((row) => [t(`step.${row.step}`),
      figure(html("td"), `timeliness|${row.step}|referrals`, { value: row.referrals }, fmt),
      html("td", { "data-figure": `timeliness|${row.step}|median`, "data-value": row.median_days ?? "" },
        days(row.median_days)),
      html("td", { "data-figure": `timeliness|${row.step}|p90`, "data-value": row.p90_days ?? "" },
        days(row.p90_days))])));
}

export function drawProviders(model, t, fmt) {
  const summary = document.getElementById("provider-summary");
  summary.replaceChildren();
  for (const indicator of ["providers_vetted", "providers_with_agreement_in_force"]) {
    const card = html("div", { class: "card small" });
    card.append(html("p", { class: "card-title" }, t(`indicator.${indicator}`)));
    card.append(figure(html("p", { class: "card-value" }), `${indicator}|${model.region}`,
      model.cell(indicator, model.region), fmt));
    summary.append(card);
  }
  const container = document.getElementById("provider-table");
  container.replaceChildren();
  if (model.providers === null) {
    container.append(html("p", { class: "muted" }, t("not_in_feed")));
    return;
  }
  if (!model.providers.length) {
    container.append(html("p", { class: "muted" }, t("no_referrals")));
    return;
  }
  const steps = FUNNEL;
  container.append(table([t("provider"), t("district"), ...steps.map((s) => t(`indicator.${s}`)), t("acceptance")],
    model.providers.map((p) => {
      const issued = p.counts.referrals_issued || 0;
      const accepted = p.counts.referrals_accepted || 0;
      return [p.provider, p.district,
        ...steps.map((s) => figure(html("td", { class: "number" }), `provider|${p.provider}|${p.district}|${s}`,
          { value: p.counts[s] || 0 }, fmt)),
        html("td", { class: "number" }, issued ? fmt.percent(accepted / issued) : "–")];
    })));
}

export function drawFreshness(freshness, t, fmt) {
  const container = document.getElementById("freshness-table");
  container.replaceChildren();
  container.append(table([t("source"), t("last_event"), t("lag")], freshness.sources.map((source) => {
    const last = html("td", { "data-figure": `freshness|${source.topic}|last`,
      "data-value": source.last_event_at ?? "" },
    source.last_event_at ? fmt.datetime(source.last_event_at) : t("never"));
    const lag = html("td", { "data-figure": `freshness|${source.topic}|lag`, "data-value": source.lag ?? "" },
      source.lag === null ? t("lag_unknown")
        : source.lag === 0 ? t("lag_none") : t("lag_records", { count: fmt.number(source.lag) }));
    return [t(`source.${source.topic}`), last, lag];
  })));
}

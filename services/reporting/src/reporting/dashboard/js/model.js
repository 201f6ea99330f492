// One shape for what the page shows, from the district view (GET /indicators + /dashboard/trends: true counts)
// or the ministry view (GET /dashboard/feed: the protected feed's margins, suppressed cells kept as suppressed).

export const TARGETED = ["withdrawn", "protected", "registered"];
export const TREND = ["registered", "identified", "withdrawn", "protected", "referrals_issued"];
export const FUNNEL = ["referrals_issued", "referrals_accepted", "referrals_completed", "referrals_declined",
  "referrals_expired", "referrals_overdue"];
const ZERO = Object.freeze({ value: 0, suppressed: false });

function levelOf(code) {
  if (code === "ID") return "national";
  return ["province", "kabupaten", "kecamatan", "village"][Math.min(code.split(".").length - 1, 3)];
}

function within(code, region) {
  return region === "ID" || code === region || code.startsWith(region + ".");
}

export function lastMonths(asOf, count = 12) {
  const [year, month] = asOf.split("-").map(Number);
  const months = [];
  for (let back = count - 1; back >= 0; back -= 1) {
    const index = year * 12 + (month - 1) - back;
    months.push(`${Math.floor(index / 12)}${String((index % 12) + 1).padStart(2, "0")}`);
  }
  return months;
}

class Model {
  constructor(role, region, asOf) {
    this.role = role;
    this.region = region;
    this.asOf = asOf;
    this.cells = new Map(); // "indicator|region|period" -> {value, suppressed}
    this.targets = new Map(); // "indicator|region" -> target
    this.codes = new Set();
    this.timeliness = null;
    this.providers = null;
    this.published = true;
  }

  put(indicator, code, period, cell) {
    this.cells.set(`${indicator}|${code}|${period}`, cell);
    if (code !== this.region && within(code, this.region)) this.codes.add(code);
  }

  cell(indicator, code, period = "cumulative") {
    return this.cells.get(`${indicator}|${code}|${period}`) || ZERO;
  }

  target(indicator, code) {
    return this.targets.get(`${indicator}|${code}`) || null;
  }

  // The districts under the region, each followed by its villages (those the viewer may see).
  rows() {
    const codes = [...this.codes].sort();
    const level = levelOf(this.region);
    const villages = codes.filter((c) => levelOf(c) === "village");
    if (level === "village") return [{ code: this.region, level }];
    const top = ["kabupaten", "kecamatan"].includes(level) ? [this.region]
      : codes.filter((c) => levelOf(c) === "kabupaten");
    return top.flatMap((code) => [{ code, level: levelOf(code) },
      ...villages.filter((v) => within(v, code)).map((v) => ({ code: v, level: "village" }))]);
  }

  months() {
    return lastMonths(this.asOf);
  }
}

function addTargets(model, targets) {
  for (const t of targets) {
    if (within(t.region_code, model.region)) {
      model.targets.set(`${t.indicator}|${t.region_code}`, t.target);
      if (t.region_code !== model.region) model.codes.add(t.region_code);
    }
  }
}

export function fromIndicators(viewer, indicators, trends, targets) {
  const model = new Model(viewer.role, indicators.region, viewer.as_of);
  for (const f of indicators.figures) {
    if (f.sex === "all" && f.age_band === "all") {
      model.put(f.indicator, f.region_code, "cumulative", { value: f.value, suppressed: false });
    }
  }
  for (const [indicator, months] of Object.entries(trends.series)) {
    for (const [month, value] of Object.entries(months)) {
      model.put(indicator, trends.region, month, { value, suppressed: false });
    }
  }
  addTargets(model, targets);
  model.timeliness = indicators.referral_timeliness;
  const providers = new Map();
  for (const row of indicators.referral_funnel) {
    const key = `${row.provider_id}|${row.district}`;
    const entry = providers.get(key) || { provider: row.provider_id, district: row.district, counts: {} };
    for (const [indicator, count] of Object.entries(row.counts)) {
      entry.counts[indicator] = (entry.counts[indicator] || 0) + count;
    }
    providers.set(key, entry);
  }
  model.providers = [...providers.values()].sort((a, b) => a.district.localeCompare(b.district)
    || a.provider.localeCompare(b.provider));
  return model;
}

// `cells`: GET /dashboard/feed, the protected feed's margins (all sexes and ages).
export function fromFeed(viewer, cells, targets) {
  const model = new Model(viewer.role, "ID", viewer.as_of);
  model.published = cells.length > 0;
  for (const c of cells) model.put(c.indicator, c.region_code, c.period, { value: c.value, suppressed: c.suppressed });
  addTargets(model, targets);
  return model;
}

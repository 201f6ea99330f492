// The dashboard: sign in with a bearer token (kept in sessionStorage), read the figures the token may see, draw.
// When every chart is drawn, <body data-state="ready"> and window.simpulRenderedAt (ms since navigation start)
// are set: the browser test and bench/dashboard_render.py wait for them.

import { fromFeed, fromIndicators } from "./model.js";
import { drawFreshness, drawFunnel, drawProviders, drawTargets, drawTrends } from "./views.js";

const TOKEN = "simpul.dashboard.token";
const LANGUAGE = "simpul.dashboard.language";
const LOCALES = { id: "id-ID", en: "en-GB" };
const state = { language: "id", words: {}, token: null, viewer: null, model: null, freshness: null };

class SignedOut extends Error {}

function t(key, params = {}) {
  const words = state.words[state.language] || {};
  if (!(key in words)) {
    console.error(`dashboard: no "${key}" in the ${state.language} dictionary`);
    return key;
  }
  return words[key].replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

function formats() {
  const locale = LOCALES[state.language];
  const number = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
  const month = new Intl.DateTimeFormat(locale, { month: "short", year: "2-digit", timeZone: "UTC" });
  const moment = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  return {
    number: (v) => number.format(v), decimal: (v) => decimal.format(v), percent: (v) => percent.format(v),
    month: (m) => month.format(new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(4)) - 1, 1))),
    datetime: (v) => moment.format(new Date(v)), suppressed: t("suppressed"),
  };
}

async function loadWords() {
  const load = async (language) => {
    const answer = await fetch(`dashboard/assets/i18n/${language}.json`);
    state.words[language] = await answer.json();
  };
  await Promise.all(Object.keys(LOCALES).map(load));
}

function translateStatic() {
  document.documentElement.lang = state.language;
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.language));
  }
}

function request(path, token = state.token) {
  return fetch(path, { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } });
}

async function api(path) {
  return answered(await request(path));
}

async function answered(answer) {
  if (answer.status === 401) {
    signOut("session_expired");
    throw new SignedOut();
  }
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    throw new Error(answer.status === 403 ? t("forbidden") : `${answer.status} ${problem.detail || problem.title || ""}`);
  }
  return answer.json();
}

function show(signedIn) {
  document.getElementById("sign-in").hidden = signedIn;
  document.getElementById("board").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
}

function signOut(reason = null) {
  sessionStorage.removeItem(TOKEN);
  Object.assign(state, { token: null, viewer: null, model: null, freshness: null });
  document.getElementById("viewer").textContent = "";
  document.getElementById("sign-in-error").textContent = reason ? t(reason) : "";
  document.getElementById("sign-in-error").dataset.reason = reason || "";
  document.body.dataset.state = "signed-out";
  show(false);
}

// `early`: the /dashboard/me request already under way (started with the page's own assets).
async function signIn(token, saved = false, early = null) {
  state.token = token;
  try {
    state.viewer = await answered(await (early || request("dashboard/me")));
  } catch (error) {
    const reason = saved ? "session_expired" : "invalid_token";
    signOut(error instanceof SignedOut ? reason : null);
    if (!(error instanceof SignedOut)) document.getElementById("sign-in-error").textContent = error.message;
    return;
  }
  sessionStorage.setItem(TOKEN, token);
  const select = document.getElementById("region");
  const regions = state.viewer.role === "ministry" ? ["ID"] : state.viewer.scope;
  select.replaceChildren(...regions.map((code) => new Option(code, code)));
  select.value = state.viewer.home;
  show(true);
  await refresh();
}

async function readModel(region) {
  const viewer = state.viewer;
  const targets = api("dashboard/targets");
  if (viewer.role === "ministry") return fromFeed(viewer, await api("dashboard/feed"), await targets);
  const query = `region=${encodeURIComponent(region)}`;
  const [indicators, trends] = await Promise.all([api(`indicators?${query}&period=cumulative`),
    api(`dashboard/trends?${query}`)]);
  return fromIndicators(viewer, indicators, trends, await targets);
}

async function refresh() {
  document.body.dataset.state = "loading";
  document.getElementById("board-error").textContent = "";
  const region = document.getElementById("region").value;
  try {
    state.model = await readModel(region);
    performance.mark("simpul:figures-read");
    draw();
    performance.mark("simpul:charts-drawn");
    window.simpulRenderedAt = performance.now();
    document.body.dataset.state = "ready";
  } catch (error) {
    if (error instanceof SignedOut) return;
    document.getElementById("board-error").textContent = `${t("failed")}: ${error.message}`;
    document.body.dataset.state = "failed";
    return;
  }
  await refreshFreshness();
}

// After the figures: asking Kafka for the lag should not hold up the first render, nor its failure the page.
async function refreshFreshness() {
  try {
    state.freshness = await api("dashboard/freshness");
    drawFreshness(state.freshness, t, formats());
    document.body.dataset.freshness = "ready";
  } catch (error) {
    if (error instanceof SignedOut) return;
    document.getElementById("freshness-table").textContent = `${t("failed")}: ${error.message}`;
    document.body.dataset.freshness = "failed";
  }
}

function draw() {
  const { viewer, model } = state;
  if (!model) return;
  const fmt = formats();
  const where = viewer.role === "ministry" ? t("national") : viewer.scope.join(", ");
  document.getElementById("viewer").textContent = `${t(`role.${viewer.role}`)} · ${where}`;
  const notice = viewer.role === "ministry" ? (model.published ? "notice.ministry" : "no_publication")
    : "notice.officer";
  document.getElementById("notice").textContent = t(notice);
  for (const option of document.getElementById("region").options) {
    option.textContent = option.value === "ID" ? t("national") : option.value;
  }
  drawTargets(model, t, fmt);
  drawTrends(model, t, fmt);
  drawFunnel(model, t, fmt);
  drawProviders(model, t, fmt);
  if (state.freshness) drawFreshness(state.freshness, t, fmt);
}

function setLanguage(language) {
  state.language = language;
  localStorage.setItem(LANGUAGE, language);
  translateStatic();
  draw();
}

async function start() {
  state.language = LOCALES[localStorage.getItem(LANGUAGE)] ? localStorage.getItem(LANGUAGE) : "id";
  const saved = sessionStorage.getItem(TOKEN);
  const early = saved ? request("dashboard/me", saved) : null;
  await loadWords();
  translateStatic();
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  document.getElementById("sign-out").addEventListener("click", () => signOut());
  document.getElementById("region").addEventListener("change", () => refresh());
  document.getElementById("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value.trim().replace(/^Bearer\s+/i, "");
    if (token) signIn(token);
  });
  let width = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth !== width) { width = window.innerWidth; draw(); }
  });
  if (saved) await signIn(saved, true, early);
  else signOut();
}

start();

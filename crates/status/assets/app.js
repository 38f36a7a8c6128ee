// benglema status page: fills `/` and `/service/NAME` from the JSON API and keeps them live
// with server-sent events (/api/stream). Every text from the data (service names, post
// texts, terms) is set with textContent or as an attribute value: never parsed as markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

// el("div", {class: "x"}, "text", child, ...): strings become text nodes.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

// "2026-01-02T03:04:05+08:00" -> "01-02 03:04" (the detector's zone, as written).
function hm(iso) {
  if (!iso) return "—";
  return iso.slice(5, 10) + " " + iso.slice(11, 16);
}

// Unix seconds -> "HH:MM" in the zone `offset` seconds from UTC.
function clock(unix, offset) {
  const d = new Date((unix + offset) * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
}

function num(x, digits) {
  if (x === null || x === undefined) return "—";
  return Number(x).toFixed(digits || 0);
}

function serviceUrl(name) {
  return "/service/" + encodeURIComponent(name);
}

function setLive(on) {
  const l = document.getElementById("live");
  if (!l) return;
  l.className = on ? "live" : "live off";
  l.textContent = on ? "实时" : "连接断开，重试中";
}

function setThrough(v) {
  const t = document.getElementById("through");
  if (t) t.textContent = v.through ? "数据截至 " + hm(v.through) : "等待数据…";
}

// ---- `/` -----------------------------------------------------------------------------

// Bars scaled to the larger of the service's busiest bar and three times what its baseline
// expects per bar, so a stray complaint does not look like a spike.
function sparkline(values, expectedPerBar) {
  const w = 288, h = 36;
  const s = svg("svg", { class: "spark", viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", "aria-hidden": "true" });
  const max = Math.max(3, 3 * expectedPerBar, ...values);
  const bw = w / Math.max(1, values.length);
  values.forEach((v, i) => {
    if (v <= 0) return;
    const bh = Math.max(1, (v / max) * (h - 2));
    s.append(svg("rect", { x: (i * bw).toFixed(2), y: (h - bh).toFixed(2), width: Math.max(0.8, bw - 0.6).toFixed(2), height: bh.toFixed(2) }));
  });
  return s;
}

function card(s, spark) {
  const name = el("span", { class: "name" }, s.service, s.discovered ? el("span", { class: "badge" }, "新发现") : null);
  const status = el("span", { class: "status " + s.status, "data-status": s.status }, s.status_label);
  const counts = el("p", { class: "counts" },
    "近 1 小时 ", el("b", {}, String(s.complaints_hour)), " 条投诉 · 预期 " + num(s.expected_hour, 1) +
    " · 24 小时 " + s.complaints_day + " 条");
  const body = el("a", { class: "body", href: serviceUrl(s.service) },
    el("div", { class: "row" }, name, status), counts, sparkline(s.sparkline, s.expected_hour * spark / 60));
  const o = s.open_event;
  if (o) {
    const top = o.symptoms.map(([k, v]) => k + " " + Math.round(v * 100) + "%").join("、");
    body.append(el("p", { class: "open" },
      "自 " + hm(o.started_at) + " 起 · 峰值 " + num(o.peak_rate, 0) + "/分钟（基线 " + num(o.baseline_rate, 1) + "）" +
      (top ? " · " + top : "")));
  }
  return el("li", { class: "card " + s.status, "data-service": s.service }, body);
}

function renderIndex(v) {
  setThrough(v);
  const list = document.getElementById("services");
  list.replaceChildren(...v.services.map((s) => card(s, v.spark_minutes)));
  const down = v.services.filter((s) => s.status !== "normal").length;
  document.title = (down ? "(" + down + ") " : "") + "崩了吗 · 服务状态";
  document.getElementById("empty").hidden = v.services.length > 0;
}

// ---- `/service/NAME` -----------------------------------------------------------------

function stat(value, label) {
  return el("div", {}, el("b", {}, value), el("span", {}, label));
}

// The 24-hour chart: complaints per minute (line and area), the baseline (dashed), event
// windows shaded, onset / detection / resolution markers.
function chart(v, width) {
  // Drawn at the width it is shown at, so its text stays legible on a phone.
  const W = Math.max(300, Math.round(width || 900)), H = W < 600 ? 220 : 280, L = 40, R = 10, T = 14, B = 26;
  const n = v.complaints.length;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "每分钟投诉与预期" });
  if (!n || v.t0_unix === null) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "还没有数据"));
    return root;
  }
  const step = v.bucket_seconds;
  const t0 = v.t0_unix, t1 = v.t0_unix + n * step;
  const maxC = Math.max(1, ...v.complaints, ...v.expected.map((e) => e || 0));
  const top = niceMax(maxC);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (c) => T + (1 - c / top) * (H - T - B);
  // Grid and y labels.
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const c = top * f;
    root.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: y(c), y2: y(c) }));
    root.append(svg("text", { x: L - 6, y: y(c) + 4, "text-anchor": "end" }, Math.round(c)));
  }
  // X labels: every 3 hours (or 30 minutes when the span is short), in the detector's zone.
  const span = t1 - t0;
  const wide = W >= 600;
  const every = span > 6 * 3600 ? (wide ? 3 : 6) * 3600 : span > 3600 ? 1800 : 600;
  const off = v.utc_offset_seconds;
  for (let t = Math.ceil((t0 + off) / every) * every - off; t <= t1; t += every) {
    root.append(svg("line", { class: "grid", x1: x(t), x2: x(t), y1: T, y2: H - B }));
    root.append(svg("text", { x: x(t), y: H - 8, "text-anchor": "middle" }, clock(t, off)));
  }
  // Event windows and markers.
  const marks = [];
  for (const e of v.events) {
    const s = Date.parse(e.started_at) / 1000;
    const end = e.ended_at ? Date.parse(e.ended_at) / 1000 : t1;
    if (end < t0 || s > t1) continue;
    const xs = x(Math.max(s, t0)), xe = x(Math.min(end, t1));
    root.append(svg("rect", { class: "shade", x: xs, y: T, width: Math.max(1, xe - xs), height: H - T - B, "data-event": e.event_id }));
    marks.push(["onset", s, "开始"], ["detect", Date.parse(e.detected_at) / 1000, "发现"]);
    if (e.ended_at) marks.push(["resolve", end, "恢复"]);
  }
  // Baseline: a dashed path, broken where there is none.
  let d = "";
  v.expected.forEach((e, i) => {
    if (e === null) return;
    const px = x(t0 + (i + 0.5) * step);
    d += (i === 0 || v.expected[i - 1] === null ? "M" : "L") + px.toFixed(1) + " " + y(e).toFixed(1);
  });
  if (d) root.append(svg("path", { class: "expected", d }));
  // Complaints: area and line.
  let line = "";
  v.complaints.forEach((c, i) => {
    line += (i === 0 ? "M" : "L") + x(t0 + (i + 0.5) * step).toFixed(1) + " " + y(c).toFixed(1);
  });
  const area = line + `L${x(t0 + (n - 0.5) * step).toFixed(1)} ${y(0)}L${x(t0 + 0.5 * step).toFixed(1)} ${y(0)}Z`;
  root.append(svg("path", { class: "area", d: area }));
  root.append(svg("path", { class: "series", d: line }));
  for (const [kind, t, label] of marks) {
    if (t < t0 || t > t1) continue;
    root.append(svg("line", { class: "marker " + kind, x1: x(t), x2: x(t), y1: T, y2: H - B }));
    const ly = kind === "onset" ? T + 10 : kind === "detect" ? T + 22 : T + 34;
    const right = x(t) > W - R - 90;
    root.append(svg("text", { class: "mk " + kind, x: x(t) + (right ? -3 : 3), y: ly, "text-anchor": right ? "end" : "start" },
      label + " " + clock(t, off)));
  }
  root.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: y(0), y2: y(0), stroke: "#9ca3af" }));
  return root;
}

function niceMax(m) {
  const p = Math.pow(10, Math.floor(Math.log10(m)));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= m) return k * p;
  return 10 * p;
}

let lastView = null;
window.addEventListener("resize", () => {
  const box = document.getElementById("chart");
  if (box && lastView) box.replaceChildren(chart(lastView, box.clientWidth));
});

function renderService(v) {
  setThrough(v);
  document.getElementById("missing").hidden = true;
  const st = document.getElementById("status");
  st.className = "status " + v.status;
  st.dataset.status = v.status;
  st.textContent = v.status_label;
  document.title = "崩了吗 · " + v.service + " · " + v.status_label;
  const o = v.open_event;
  document.getElementById("summary").replaceChildren(
    stat(String(v.complaints_hour), "近 1 小时投诉"),
    stat(num(v.expected_hour, 1), "近 1 小时预期"),
    stat(String(v.complaints_day), "24 小时投诉"),
    stat(o ? hm(o.started_at) : "—", o ? "故障开始" : "没有进行中的故障"),
    stat(o ? num(o.peak_rate, 0) + "/分钟" : String(v.events.length), o ? "峰值" : "24 小时内事件"));
  const box = document.getElementById("chart");
  box.replaceChildren(chart(v, box.clientWidth));
  lastView = v;
  document.getElementById("content-over").textContent = v.content_over === "event" ? "本次故障以来" : "近 24 小时";
  const maxShare = Math.max(0.01, ...v.symptoms.map((s) => s.share));
  document.getElementById("symptoms").replaceChildren(...(v.symptoms.length ? v.symptoms.map((s) =>
    el("li", {}, el("span", {}, s.name),
      el("div", { class: "bar", style: null }, null),
      el("span", { class: "pct" }, Math.round(s.share * 100) + "%"))) : [el("li", { class: "muted" }, "暂无")]));
  // Bar widths through the CSSOM (the style sheet policy allows no inline style attributes).
  document.querySelectorAll("#symptoms .bar").forEach((b, i) => {
    b.style.width = ((v.symptoms[i].share / maxShare) * 100).toFixed(1) + "%";
  });
  document.getElementById("terms").replaceChildren(...(v.terms.length ? v.terms.map((t) =>
    el("li", {}, t.name, el("span", {}, String(t.count)))) : [el("li", { class: "muted" }, "暂无")]));
  document.getElementById("samples").replaceChildren(...(v.samples.length ? v.samples.map((p) =>
    el("li", { "data-id": p.id }, el("span", { class: "when" }, hm(p.at)), el("span", { class: "text" }, p.text),
      p.url ? el("a", { class: "id", href: p.url, rel: "noopener noreferrer", target: "_blank" }, "#" + p.id)
        : el("span", { class: "id" }, "#" + p.id))) : [el("li", { class: "muted" }, "暂无")]));
  const labels = { open: "进行中", updated: "进行中", resolved: "已恢复" };
  const sev = { weak: "轻微异常", moderate: "故障", strong: "严重故障" };
  document.querySelector("#events tbody").replaceChildren(...(v.events.length ? v.events.map((e) =>
    el("tr", { "data-event": e.event_id },
      el("td", {}, labels[e.status] || e.status), el("td", {}, sev[e.severity] || e.severity),
      el("td", {}, hm(e.started_at)), el("td", {}, hm(e.detected_at)), el("td", {}, hm(e.ended_at)),
      el("td", {}, num(e.peak_rate, 0)), el("td", {}, num(e.baseline_rate, 1)), el("td", {}, String(e.complaints)),
      el("td", {}, e.symptoms.slice(0, 3).map(([k, x]) => k + " " + Math.round(x * 100) + "%").join("、")),
      el("td", { class: "muted" }, e.event_id))) : [el("tr", {}, el("td", { colspan: 10, class: "muted" }, "24 小时内没有故障事件"))]));
}

// ---- loading and live updates ----------------------------------------------------------

function start() {
  const page = document.body.dataset.page;
  let url = "/api/services", render = renderIndex;
  if (page === "service") {
    let name;
    try {
      name = decodeURIComponent(location.pathname.replace(/^\/service\//, ""));
    } catch (e) {
      document.getElementById("missing").hidden = false;
      return;
    }
    document.getElementById("name").textContent = name;
    document.title = "崩了吗 · " + name;
    url = "/api/services/" + encodeURIComponent(name);
    document.getElementById("json").href = url;
    render = renderService;
  }
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const r = await fetch(url, { cache: "no-store" });
      if (r.status === 404 && page === "service") {
        document.getElementById("missing").hidden = false;
      } else if (r.ok) {
        render(await r.json());
        document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
      }
    } catch (e) {
      setLive(false);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  refresh();
  const es = new EventSource("/api/stream");
  es.addEventListener("tick", () => { setLive(true); refresh(); });
  es.onerror = () => setLive(false);
}

document.addEventListener("DOMContentLoaded", start);

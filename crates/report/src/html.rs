//! `report.html`: one self-contained page (inline CSS, PNGs as base64 data URIs, no script,
//! no network reference) with the metrics summary, the per-incident, comparison and events
//! tables, and the plots.

use std::fmt::Write as _;

use base64::Engine as _;

use benglema_model::{Metrics, OutageEvent};

use crate::data::IncidentView;
use crate::plot::local;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One plot as the page shows it.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Anchor id in the page.
    pub anchor: String,
    /// Caption.
    pub caption: String,
    /// File stem relative to the report (`plots/incident-...`).
    pub stem: String,
    /// The PNG's bytes.
    pub png: Vec<u8>,
}

/// Figures of the page, by section.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// One per labelled incident.
    pub incidents: Vec<Figure>,
    /// Events that matched no incident.
    pub false_alarms: Vec<Figure>,
    /// Events that matched an incident.
    pub matched_events: Vec<Figure>,
    /// Overviews of services with an incident or an event.
    pub overviews: Vec<Figure>,
    /// Overviews of the other services.
    pub quiet_overviews: Vec<Figure>,
}

/// Everything the page shows.
pub struct Page<'a> {
    /// The output directory, as given.
    pub dir: &'a str,
    /// metrics.json.
    pub metrics: &'a Metrics,
    /// Incidents joined with their results.
    pub incidents: &'a [IncidentView],
    /// events.csv.
    pub events: &'a [OutageEvent],
    /// Ids of events matching no incident.
    pub false_alarms: &'a [String],
    /// The plots.
    pub figures: &'a Figures,
    /// Notes (skipped plots, font fallbacks...).
    pub notes: &'a [String],
    /// How the plot font was chosen.
    pub font: &'a str,
}

const STYLE: &str = r#"
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif; margin: 24px auto; max-width: 1440px; padding: 0 16px; color: #222; }
h1 { font-size: 26px; margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 12px 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.missed td { background: #fdecea; } tr.fa td { background: #f3ecfa; }
.ok { color: #2c7a2c; font-weight: bold; } .bad { color: #c00; font-weight: bold; } .fa { color: #7a4fa8; font-weight: bold; }
figure { margin: 18px 0 28px; } figure img { max-width: 100%; border: 1px solid #e4e4e4; }
figcaption { color: #555; font-size: 14px; } .notes li { color: #8a5a00; }
summary { cursor: pointer; font-weight: bold; margin: 12px 0; }
"#;

/// `476889` as `476,889`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn count(x: Option<u64>) -> String {
    x.map_or("–".into(), thousands)
}

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn minutes(x: Option<f64>) -> String {
    x.map_or("–".into(), |m| format!("{m:+.1} min"))
}

fn time(t: Option<crate::data::Time>) -> String {
    t.map_or("–".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn figure(out: &mut String, f: &Figure) {
    let data = base64::engine::general_purpose::STANDARD.encode(&f.png);
    let _ = writeln!(
        out,
        "<figure id=\"{a}\"><img alt=\"{c}\" src=\"data:image/png;base64,{data}\"><figcaption>{c} · <a href=\"{s}.svg\">SVG</a> · <a href=\"{s}.png\">PNG</a></figcaption></figure>",
        a = escape(&f.anchor),
        c = escape(&f.caption),
        s = escape(&f.stem),
    );
}

/// Renders the page.
pub fn render(p: &Page<'_>) -> String {
    let m = p.metrics;
    let mut h = String::with_capacity(1 << 20);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>崩了吗 benglema backtest report</title>\n<style>{STYLE}</style></head><body>\n<h1>崩了吗 benglema · 回测报告 backtest report</h1>\n<p class=\"sub\">{}</p>\n",
        escape(p.dir)
    );

    // Summary.
    let covered = m.incidents_covered.to_string();
    let detected = m.incidents_detected.to_string();
    let rows: Vec<(&str, String)> = vec![
        (
            "召回 recall",
            format!("{} ({detected} / {covered} incidents)", num(m.recall, 2)),
        ),
        ("精确率 precision", num(m.precision, 2)),
        (
            "误报 false alarms",
            format!(
                "{} ({} / day)",
                m.false_alarms,
                num(Some(m.false_alarms_per_day), 2)
            ),
        ),
        ("中位延迟 median delay", minutes(m.median_delay_minutes)),
        ("最长延迟 worst delay", minutes(m.worst_delay_minutes)),
        ("事件 events", m.events.to_string()),
        ("帖子 posts", count(Some(m.posts))),
        ("投诉 complaints", count(Some(m.complaints))),
        (
            "拒收 / 迟到 / 重复 rejected / late / duplicate",
            format!(
                "{} / {} / {}",
                count(Some(m.rejects)),
                count(Some(m.late)),
                count(Some(m.duplicates))
            ),
        ),
        ("天数 days of input", num(Some(m.days), 1)),
        (
            "速度 speed",
            format!(
                "{} posts/s ({} s)",
                count(Some(m.posts_per_second.round() as u64)),
                num(Some(m.seconds), 2)
            ),
        ),
    ];
    h.push_str("<h2>总览 Summary</h2>\n<table class=\"summary\">\n");
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><th>{}</th><td class=\"num\">{}</td></tr>",
            escape(k),
            escape(&v)
        );
    }
    h.push_str("</table>\n");
    let mut notes: Vec<String> = p.notes.to_vec();
    notes.push(format!("图表字体 plot font: {}", p.font));
    h.push_str("<ul class=\"notes\">\n");
    for n in &notes {
        let _ = writeln!(h, "<li>{}</li>", escape(n));
    }
    h.push_str("</ul>\n");

    // Incidents.
    h.push_str("<h2>标注事件 Labelled incidents</h2>\n<table>\n<tr><th>incident</th><th>service</th><th>labelled start</th><th>labelled end</th><th>detected</th><th>event</th><th>detected at</th><th class=\"num\">delay</th><th class=\"num\">lead over ack</th><th>plot</th></tr>\n");
    for (i, v) in p.incidents.iter().enumerate() {
        let r = v.result.as_ref();
        let (class, verdict) = match r {
            Some(r) if !r.covered => ("", "<span>not in data</span>".to_owned()),
            Some(r) if r.detected => ("", "<span class=\"ok\">yes</span>".to_owned()),
            Some(_) => ("missed", "<span class=\"bad\">MISSED</span>".to_owned()),
            None => ("", "<span>not scored</span>".to_owned()),
        };
        let anchor = p
            .figures
            .incidents
            .iter()
            .find(|f| f.anchor == format!("incident-{i}"))
            .map_or("–".to_owned(), |f| {
                format!("<a href=\"#{}\">plot</a>", escape(&f.anchor))
            });
        let _ = writeln!(
            h,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{verdict}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{anchor}</td></tr>",
            escape(&v.incident_id),
            escape(&v.service),
            escape(&time(v.start)),
            escape(&time(v.end)),
            escape(v.event_id().unwrap_or("–")),
            escape(&time(r.and_then(|r| r.detected_at))),
            escape(&minutes(r.and_then(|r| r.delay_minutes))),
            escape(&minutes(r.and_then(|r| r.lead_over_ack_minutes))),
        );
    }
    h.push_str("</table>\n");

    // Comparison.
    if !m.comparison.is_empty() {
        let comparison: Vec<serde_json::Map<String, serde_json::Value>> = m
            .comparison
            .iter()
            .filter_map(|r| match serde_json::to_value(r) {
                Ok(serde_json::Value::Object(o)) => Some(o),
                _ => None,
            })
            .collect();
        let mut keys: Vec<&str> = Vec::new();
        for row in &comparison {
            for k in row.keys() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        h.push_str("<h2>模型对比 Side by side</h2>\n<table>\n<tr>");
        for k in &keys {
            let _ = write!(h, "<th>{}</th>", escape(k));
        }
        h.push_str("</tr>\n");
        for row in &comparison {
            h.push_str("<tr>");
            for k in &keys {
                let cell = match row.get(*k) {
                    None | Some(serde_json::Value::Null) => "–".to_owned(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Number(n)) => match n.as_f64() {
                        Some(f) if n.is_f64() => format!("{f:.3}"),
                        _ => n.to_string(),
                    },
                    Some(v) => v.to_string(),
                };
                let class = if matches!(row.get(*k), Some(serde_json::Value::Number(_))) {
                    " class=\"num\""
                } else {
                    ""
                };
                let _ = write!(h, "<td{class}>{}</td>", escape(&cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }

    // Events.
    h.push_str("<h2>检测事件 Detected events</h2>\n<table>\n<tr><th>event</th><th>service</th><th>status</th><th>started</th><th>detected</th><th>ended</th><th class=\"num\">peak / min</th><th class=\"num\">baseline / min</th><th>severity</th><th class=\"num\">complaints</th><th>symptoms</th><th>top terms</th><th>matches</th></tr>\n");
    for e in p.events {
        let matched: Vec<&IncidentView> = p
            .incidents
            .iter()
            .filter(|v| v.event_id() == Some(e.event_id.as_str()))
            .collect();
        let fa = p.false_alarms.contains(&e.event_id);
        let matches = if let Some(v) = matched.first() {
            escape(&v.incident_id)
        } else if fa {
            "<span class=\"fa\">误报 false alarm</span>".to_owned()
        } else {
            "–".to_owned()
        };
        let symptoms = e
            .symptoms
            .iter()
            .take(4)
            .map(|(k, v)| format!("{k} {:.0}%", v * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            h,
            "<tr class=\"{}\"><td><a href=\"#event-{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{matches}</td></tr>",
            if fa { "fa" } else { "" },
            escape(&e.service),
            escape(e.status.as_str()),
            escape(&time(Some(e.started_at))),
            escape(&time(Some(e.detected_at))),
            escape(&time(e.ended_at)),
            num(Some(e.peak_rate), 1),
            num(Some(e.baseline_rate), 2),
            escape(e.severity.as_str()),
            count(Some(e.complaints)),
            escape(&symptoms),
            escape(&e.top_terms.iter().take(6).cloned().collect::<Vec<_>>().join(" ")),
            id = escape(&e.event_id),
        );
    }
    h.push_str("</table>\n");

    // Plots.
    let f = p.figures;
    if !f.incidents.is_empty() {
        h.push_str("<h2>标注事件图 Incident charts</h2>\n");
        f.incidents.iter().for_each(|x| figure(&mut h, x));
    }
    if !f.false_alarms.is_empty() {
        h.push_str("<h2>误报图 False alarm charts</h2>\n");
        f.false_alarms.iter().for_each(|x| figure(&mut h, x));
    }
    if !f.matched_events.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>匹配事件图 Charts of the {} events that matched an incident</summary>",
            f.matched_events.len()
        );
        f.matched_events.iter().for_each(|x| figure(&mut h, x));
        h.push_str("</details>\n");
    }
    if !f.overviews.is_empty() || !f.quiet_overviews.is_empty() {
        h.push_str("<h2>全部历史 Whole history per service</h2>\n");
        f.overviews.iter().for_each(|x| figure(&mut h, x));
        if !f.quiet_overviews.is_empty() {
            let _ = writeln!(
                h,
                "<details><summary>其他服务 The {} services with no incident and no event</summary>",
                f.quiet_overviews.len()
            );
            f.quiet_overviews.iter().for_each(|x| figure(&mut h, x));
            h.push_str("</details>\n");
        }
    }
    let _ = writeln!(
        h,
        "<p class=\"sub\">Times in the data's offset{}. Generated by benglema {}.</p>\n</body></html>",
        p.events
            .iter()
            .map(|e| e.started_at)
            .next()
            .map(|t| format!(" ({})", local(t.timestamp(), *t.offset(), "%:z")))
            .unwrap_or_default(),
        env!("CARGO_PKG_VERSION")
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("崩 & 'x'")</script>"#),
            "&lt;script&gt;alert(&quot;崩 &amp; &#39;x&#39;&quot;)&lt;/script&gt;"
        );
        assert_eq!(escape("微信"), "微信");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(476_889), "476,889");
        assert_eq!(thousands(5_215_474), "5,215,474");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(0), "0");
    }
}

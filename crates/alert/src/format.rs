//! What each chat gets for one event state: pure functions from an [`OutageEvent`] to the
//! request (URL and JSON body), so every format is tested without a network.
//!
//! The text is Chinese markdown: the service and what happened (疑似故障 / 故障更新 /
//! 已恢复), since when, severity, peak against the baseline, the top problems (symptom
//! shares), sample post ids, and a link to the status page when a public URL is known.

use benglema_model::{EventStatus, OutageEvent};
use serde_json::{json, Value};

use crate::{sign, Target};

/// One HTTP request to make.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Where to POST.
    pub url: String,
    /// The JSON body.
    pub body: Value,
}

fn headline(e: &OutageEvent) -> String {
    let what = match e.status {
        EventStatus::Open => "疑似故障",
        EventStatus::Updated => "故障更新",
        EventStatus::Resolved => "已恢复",
    };
    format!("{} {what}", e.service)
}

/// Text from posts and names, with the markdown that could make links or formatting of it
/// escaped.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '[' | ']' | '(' | ')' | '*' | '_' | '`' | '#' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// WeCom takes at most 4096 bytes of markdown.
const WECOM_MAX: usize = 4096;

fn truncate(s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn time(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The markdown body shared by the robots (with the headline as a heading, or without it
/// for a card that shows it in its header).
pub fn markdown(e: &OutageEvent, public_url: Option<&str>) -> String {
    format!("### {}\n{}", plain(&headline(e)), details(e, public_url))
}

fn details(e: &OutageEvent, public_url: Option<&str>) -> String {
    let mut lines = Vec::new();
    lines.push(format!(
        "- 开始：{}（{} 检测到）",
        time(e.started_at),
        e.detected_at.format("%H:%M")
    ));
    if let Some(end) = e.ended_at {
        let minutes = (end - e.started_at).num_minutes();
        lines.push(format!(
            "- 结束：{}（持续 {} 小时 {} 分）",
            time(end),
            minutes / 60,
            minutes % 60
        ));
    }
    lines.push(format!("- 严重程度：{}", e.severity.as_str()));
    lines.push(format!(
        "- 峰值：{:.0} 条/分钟（基线 {:.1}），共 {} 条投诉",
        e.peak_rate, e.baseline_rate, e.complaints
    ));
    if !e.symptoms.is_empty() {
        let top: Vec<String> = e
            .symptoms
            .iter()
            .take(3)
            .map(|(s, x)| format!("{s} {:.0}%", x * 100.0))
            .collect();
        lines.push(format!("- 主要问题：{}", top.join("，")));
    }
    if !e.top_terms.is_empty() {
        lines.push(format!(
            "- 关键词：{}",
            e.top_terms
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("、")
        ));
    }
    if !e.sample_post_ids.is_empty() {
        let ids: Vec<String> = e.sample_post_ids.iter().take(5).map(|i| plain(i)).collect();
        lines.push(format!("- 样例帖子：{}", ids.join("，")));
    }
    if let Some(base) = public_url {
        lines.push(format!(
            "- [状态页]({}/service/{})",
            base.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(&e.service, percent_encoding::NON_ALPHANUMERIC)
        ));
    }
    lines.push(format!("- 事件：{}", plain(&e.event_id)));
    lines.join("\n")
}

/// The request for `target`, signed at `now_ms` (Unix milliseconds) where the robot wants it.
pub fn request(target: &Target, e: &OutageEvent, public_url: Option<&str>, now_ms: i64) -> Request {
    match target {
        Target::Webhook { url } => Request {
            url: url.clone(),
            body: serde_json::to_value(e).expect("events serialise"),
        },
        Target::DingTalk { url, secret } => {
            let url = match secret {
                Some(s) => {
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!(
                        "{url}{sep}timestamp={now_ms}&sign={}",
                        sign::dingtalk(s, now_ms)
                    )
                }
                None => url.clone(),
            };
            Request {
                url,
                body: json!({
                    "msgtype": "markdown",
                    "markdown": { "title": headline(e), "text": markdown(e, public_url) },
                }),
            }
        }
        Target::Feishu { url, secret } => {
            let template = match e.status {
                EventStatus::Resolved => "green",
                EventStatus::Updated => "orange",
                EventStatus::Open => "red",
            };
            let mut body = json!({
                "msg_type": "interactive",
                "card": {
                    "header": {
                        "title": { "tag": "plain_text", "content": headline(e) },
                        "template": template,
                    },
                    "elements": [ { "tag": "markdown", "content": details(e, public_url) } ],
                },
            });
            if let Some(s) = secret {
                let ts = now_ms.div_euclid(1000);
                body["timestamp"] = json!(ts.to_string());
                body["sign"] = json!(sign::feishu(s, ts));
            }
            Request {
                url: url.clone(),
                body,
            }
        }
        Target::WeCom { url } => Request {
            url: url.clone(),
            body: json!({
                "msgtype": "markdown",
                "markdown": { "content": truncate(markdown(e, public_url), WECOM_MAX) },
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_posts_cannot_make_links_and_wecom_stays_under_its_limit() {
        assert_eq!(plain("[点我](http://x)"), "\\[点我\\]\\(http://x\\)");
        let long = "崩".repeat(3000);
        let t = truncate(long, WECOM_MAX);
        assert!(t.len() <= WECOM_MAX && t.ends_with('…'));
    }
}

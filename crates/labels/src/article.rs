//! News articles as dated sentences: YAML front matter (title, date), HTML stripped with
//! `scraper`, boilerplate lines (image credits, reprint notices, editor names) dropped.

use std::path::Path;

use chrono::{DateTime, FixedOffset};
use scraper::{Html, Node};
use yaml_rust2::YamlLoader;

use crate::LabelsError;

/// A news article reduced to what label drafting needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Where it came from (file path as given).
    pub source: String,
    /// Title from the front matter, if any.
    pub title: Option<String>,
    /// Publication time from the front matter `date` (RFC 2822 or RFC 3339), if any.
    pub published: Option<DateTime<FixedOffset>>,
    /// Body sentences, in order, title first.
    pub sentences: Vec<String>,
}

/// HTML elements after which a line ends.
const BLOCKS: [&str; 14] = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
];
const SKIPPED: [&str; 3] = ["script", "style", "noscript"];

/// Line prefixes that are page furniture, not reporting.
const BOILERPLATE: [&str; 12] = [
    "图源",
    "(资料图片)",
    "（资料图片）",
    "转载",
    "如需转载",
    "责任编辑",
    "- the end -",
    "- THE END -",
    "推荐内容",
    "话题标签",
    "文章纠错",
    "原标题",
];

fn html_to_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut out = String::with_capacity(html.len() / 2);
    let mut skip_depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) => match n.value() {
                Node::Element(e) if SKIPPED.contains(&e.name()) => skip_depth += 1,
                Node::Text(t) if skip_depth == 0 => out.push_str(t),
                _ => {}
            },
            ego_tree::iter::Edge::Close(n) => {
                if let Node::Element(e) = n.value() {
                    if SKIPPED.contains(&e.name()) {
                        skip_depth = skip_depth.saturating_sub(1);
                    } else if BLOCKS.contains(&e.name()) {
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(rest) = t.strip_prefix("---") {
        if let Some(end) = rest.find("\n---") {
            let body = &rest[end + 4..];
            return (Some(&rest[..end]), body);
        }
    }
    (None, text)
}

fn sentences_of(line: &str, out: &mut Vec<String>) {
    for s in line.split(['。', '！', '？', '!', '?', '\n']) {
        let s = s
            .trim()
            .trim_matches(|c: char| matches!(c, '“' | '”' | '"' | ' ' | '\u{3000}'));
        if !s.is_empty() {
            out.push(s.to_owned());
        }
    }
}

impl Article {
    /// Reads and parses an article file.
    pub fn read(path: &Path) -> Result<Article, LabelsError> {
        let bytes = std::fs::read(path).map_err(|source| LabelsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Article::parse(&text, &path.display().to_string()))
    }

    /// Parses article text: optional `---` YAML front matter, then HTML or plain text.
    pub fn parse(text: &str, source: &str) -> Article {
        let (front, body) = split_front_matter(text);
        let mut title = None;
        let mut published = None;
        if let Some(doc) = front
            .and_then(|f| YamlLoader::load_from_str(f).ok())
            .and_then(|mut d| (!d.is_empty()).then(|| d.swap_remove(0)))
        {
            title = doc["title"].as_str().map(|s| s.trim().to_owned());
            published = doc["date"].as_str().and_then(|d| {
                DateTime::parse_from_rfc2822(d.trim())
                    .or_else(|_| DateTime::parse_from_rfc3339(d.trim()))
                    .ok()
            });
        }
        let plain = if body.contains('<') && body.contains('>') {
            html_to_text(body)
        } else {
            body.to_owned()
        };
        let mut sentences = Vec::new();
        if let Some(t) = &title {
            sentences_of(t, &mut sentences);
        }
        for line in plain.lines() {
            let l = line.trim();
            if l.is_empty() || BOILERPLATE.iter().any(|b| l.starts_with(b)) {
                continue;
            }
            sentences_of(l, &mut sentences);
        }
        Article {
            source: source.to_owned(),
            title,
            published,
            sentences,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_html_and_boilerplate() {
        let a = Article::parse(
            "\n---\ntitle: '微信崩了！图片发不出去'\ndate: Mon, 18 Oct 2021 11:25:33 GMT\n---\n<div><p>你的微信上午正常吗？</p><p>第一句。第二句<strong>加粗</strong></p><script>x=1</script><p>图源：微博</p></div>",
            "a.txt",
        );
        assert_eq!(a.title.as_deref(), Some("微信崩了！图片发不出去"));
        assert_eq!(
            a.published.unwrap().to_rfc3339(),
            "2021-10-18T11:25:33+00:00"
        );
        assert_eq!(
            a.sentences,
            vec![
                "微信崩了",
                "图片发不出去",
                "你的微信上午正常吗",
                "第一句",
                "第二句加粗"
            ]
        );
    }

    #[test]
    fn plain_text_and_garbage() {
        let a = Article::parse(
            "说出来你可能不信,微信在一大早上了热搜。\n\n图源:微信\n好。",
            "b",
        );
        assert_eq!(a.title, None);
        assert_eq!(
            a.sentences,
            vec!["说出来你可能不信,微信在一大早上了热搜", "好"]
        );
        for junk in [
            "",
            "---",
            "---\n: : :\n---\n<<<>>>",
            "<p",
            "\u{feff}---\ndate: never\n---\nx",
        ] {
            let _ = Article::parse(junk, "j");
        }
    }
}

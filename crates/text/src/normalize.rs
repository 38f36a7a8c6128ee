//! Text normalisation: width, case, script, noise and repost structure.
//!
//! [`normalize`] turns a raw post into [`Normalized`] segments: the reposter's own words
//! first, then each quoted `//@user:` link of the repost chain, so that the extractor can
//! weigh them apart. Within each segment:
//! - full-width ASCII and the ideographic space become half-width, ASCII is lower-cased;
//! - Traditional characters become Simplified (`fast2s`, a phrase-aware table);
//! - control characters become spaces;
//! - URLs, `@mentions` and Weibo emoticon codes (`[允悲]`) are dropped, hashtag markers `#`
//!   are dropped but their text kept.

/// One stretch of a post: the author's own words or a quoted link of a repost chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Normalised text.
    pub text: String,
    /// `false` for the reposter's own words, `true` for quoted words.
    pub quoted: bool,
}

/// A normalised post.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Normalized {
    /// The post's segments, own words first (possibly empty), then quoted links in order.
    pub segments: Vec<Segment>,
}

impl Normalized {
    /// The reposter's own words (empty when the post is a bare repost).
    pub fn own(&self) -> &str {
        self.segments
            .first()
            .filter(|s| !s.quoted)
            .map_or("", |s| s.text.as_str())
    }
}

/// Folds width, case and control characters of one character.
#[inline]
fn fold_char(c: char) -> char {
    match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        '\u{FF01}'..='\u{FF5E}' => {
            // Full-width ASCII block maps onto '!'..='~' by a fixed offset.
            let a = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            a.to_ascii_lowercase()
        }
        '\u{3000}' => ' ',
        c if c.is_control() => ' ',
        // Zero-width characters used to dodge keyword filters.
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => '\0',
        c => c,
    }
}

fn is_mention_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '·'
}

fn is_url_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>')
}

/// Drops URLs, `@mentions` and `#` markers from already width-folded text.
fn strip_noise(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == 'h' && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let end = rest.find(|c: char| !is_url_char(c)).unwrap_or(rest.len());
            out.push(' ');
            rest = &rest[end..];
            continue;
        }
        if c == '@' {
            let body = &rest[1..];
            let end = body
                .find(|c: char| !is_mention_char(c))
                .unwrap_or(body.len());
            if end > 0 {
                out.push(' ');
                rest = &body[end..];
                continue;
            }
        }
        if c == '[' {
            // Weibo emoticon codes: [允悲], [doge], [笑cry].
            if let Some(end) = rest[1..].find(']') {
                let inner = &rest[1..1 + end];
                if !inner.is_empty() && inner.chars().count() <= 6 && !inner.contains('[') {
                    out.push(' ');
                    rest = &rest[end + 2..];
                    continue;
                }
            }
        }
        if c == '#' {
            out.push(' ');
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// Normalises a raw post into segments (see the module documentation).
pub fn normalize(raw: &str) -> Normalized {
    let mut folded = String::with_capacity(raw.len());
    let mut non_ascii = false;
    for c in raw.chars() {
        let f = fold_char(c);
        if f != '\0' {
            non_ascii |= !f.is_ascii();
            folded.push(f);
        }
    }
    let folded = if non_ascii {
        fast2s::convert(&folded)
    } else {
        folded
    };
    let mut segments = Vec::with_capacity(1);
    for (i, part) in folded.split("//@").enumerate() {
        let quoted = i > 0;
        let body = if quoted {
            // `//@user: words` or `//@user：words`: drop the user name.
            match part.find([':', '：']) {
                Some(p) => &part[p + part[p..].chars().next().map_or(1, char::len_utf8)..],
                None => part,
            }
        } else {
            part
        };
        let mut text = String::with_capacity(body.len());
        strip_noise(body, &mut text);
        let trimmed = text.trim();
        if quoted && trimmed.is_empty() {
            continue;
        }
        if trimmed.len() != text.len() {
            text = trimmed.to_owned();
        }
        segments.push(Segment { text, quoted });
    }
    Normalized { segments }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own(s: &str) -> String {
        normalize(s).own().to_owned()
    }

    #[test]
    fn width_case_and_controls() {
        assert_eq!(own("ＱＱ崩了？５０２"), "qq崩了?502");
        assert_eq!(own("WeChat　DOWN"), "wechat down");
        assert_eq!(own("微信\u{0}崩\u{7}了\r\n"), "微信 崩 了");
        assert_eq!(own("微\u{200B}信崩了"), "微信崩了");
    }

    #[test]
    fn traditional_to_simplified() {
        assert_eq!(own("微信當機了，無法傳送圖片"), "微信当机了,无法传送图片");
        assert_eq!(own("登入不了，伺服器錯誤"), "登入不了,伺服器错误");
    }

    #[test]
    fn urls_mentions_hashtags() {
        assert_eq!(
            own("#微信崩了# 图片发不出去 http://t.cn/A6xYz12 @腾讯微信团队 快修"),
            "微信崩了  图片发不出去     快修"
        );
        assert_eq!(own("邮箱 a@b.com 收不到"), "邮箱 a .com 收不到");
        assert_eq!(own("@ 单独的at"), "@ 单独的at");
        assert_eq!(own("崩了[允悲][doge]吗"), "崩了  吗");
        assert_eq!(own("[链接太长了不是表情]"), "[链接太长了不是表情]");
        assert_eq!(own("[]["), "[][");
    }

    #[test]
    fn repost_chain_is_split() {
        let n = normalize("我也是 //@小明:微信又崩了，图片发不出去//@小红：真的吗");
        assert_eq!(
            n.segments,
            vec![
                Segment {
                    text: "我也是".into(),
                    quoted: false
                },
                Segment {
                    text: "微信又崩了,图片发不出去".into(),
                    quoted: true
                },
                Segment {
                    text: "真的吗".into(),
                    quoted: true
                },
            ]
        );
        let bare = normalize("//@小明:微信又崩了");
        assert_eq!(bare.own(), "");
        assert_eq!(bare.segments.len(), 2);
        assert_eq!(normalize("／／＠小明：QQ挂了").segments[1].text, "qq挂了");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "",
            "@",
            "#",
            "//@",
            "//@:",
            "http://",
            "\u{FF5E}",
            "𠀀𠀁",
            "\u{10FFFF}",
            "//@a//@b:",
        ] {
            let _ = normalize(s);
        }
    }
}

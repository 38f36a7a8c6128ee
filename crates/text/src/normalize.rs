//! Text normalisation: width, case, script, noise and repost structure.
//!
//! [`normalize`] turns a raw post into [`Normalized`] segments: the reposter's own words
//! first, then each quoted `//@user:` link of the repost chain, so that the extractor can
//! weigh them apart. Within each segment:
//! - full-width ASCII and the ideographic space become half-width, ASCII is lower-cased;
//! - control characters become spaces;
//! - Traditional characters become Simplified with `fast2s`, run only on posts that contain
//!   a character it may convert;
//! - URLs, `@mentions` and Weibo emoticon codes (`[允悲]`) are dropped, hashtag markers `#`
//!   are dropped but their text kept.

use std::sync::OnceLock;

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

/// Bitset over the 3-byte UTF-8 range (U+0800..=U+FFFF) of characters that `fast2s` may
/// convert, so that Simplified text (nearly every post) skips conversion entirely.
fn traditional_set() -> &'static [u64] {
    static SET: OnceLock<Vec<u64>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut bits = vec![0u64; 0x10000 / 64];
        let mut buf = String::with_capacity(4);
        for u in 0x0800u32..=0xFFFF {
            let Some(c) = char::from_u32(u) else { continue };
            buf.clear();
            buf.push(c);
            // Characters that fast2s converts only next to certain neighbours (藉口, 看著,
            // 苧麻) are unchanged alone; they are listed here so their posts still convert.
            if fast2s::convert(&buf) != buf || matches!(c, '藉' | '著' | '苧') {
                bits[(u / 64) as usize] |= 1 << (u % 64);
            }
        }
        bits
    })
}

#[cfg(test)]
fn maybe_traditional(set: &[u64], c: char) -> bool {
    let u = c as u32;
    (0x0800..=0xFFFF).contains(&u) && set[(u / 64) as usize] & (1 << (u % 64)) != 0
}

/// Whether text has anything [`strip_noise`] would remove.
fn has_noise(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'@' | b'#' | b'[')) || s.contains("http")
}

fn segment(body: &str, quoted: bool) -> Option<Segment> {
    let mut text = if has_noise(body) {
        let mut t = String::with_capacity(body.len());
        strip_noise(body, &mut t);
        t
    } else {
        body.to_owned()
    };
    let trimmed = text.trim();
    if quoted && trimmed.is_empty() {
        return None;
    }
    if trimmed.len() != text.len() {
        text = trimmed.to_owned();
    }
    Some(Segment { text, quoted })
}

/// Width-, case- and control-folds `raw` with [`fold_char`], dropping the characters it
/// maps to `\0`; also says whether the result may hold a Traditional character and whether
/// it has a character that may start noise or a repost chain. One character at a time: the
/// reference [`fold_bytes`] is tested against.
#[cfg(test)]
fn fold(raw: &str, set: &[u64]) -> (String, bool, bool) {
    let mut folded = String::with_capacity(raw.len());
    let (mut traditional, mut marks) = (false, false);
    for c in raw.chars() {
        let f = fold_char(c);
        if f.is_ascii() {
            marks |= is_mark(f as u8);
            if f != '\0' {
                folded.push(f);
            }
        } else {
            traditional |= maybe_traditional(set, f);
            folded.push(f);
        }
    }
    (folded, traditional, marks)
}

/// Whether an ASCII byte may start noise (`@`, `#`, `[`, `http`) or a repost chain (`//@`).
#[inline]
fn is_mark(x: u8) -> bool {
    matches!(x, b'@' | b'#' | b'[' | b'h' | b'/')
}

/// Width-, case- and control-folds `raw` with [`fold_char`], dropping the characters it
/// maps to `\0`; also says whether the result may hold a Traditional character and whether
/// it has a character that may start noise or a repost chain. One pass over the UTF-8
/// bytes: the runs of characters that do not fold (no upper case, control, full-width or
/// zero-width character: nearly all of a post) are copied whole, and only the characters
/// that fold are rebuilt. Tested against the character-at-a-time reference.
fn fold_bytes(raw: &str, set: &[u64]) -> (String, bool, bool) {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let (mut traditional, mut marks) = (false, false);
    // raw[..copied] is folded into `out`.
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        let x = b[i];
        // The length of a character that folds and what it folds to, else the next one.
        let (len, f) = if x < 0x80 {
            if x < 0x20 || x == 0x7f {
                (1, ' ')
            } else if x.is_ascii_uppercase() {
                (1, char::from(x.to_ascii_lowercase()))
            } else {
                marks |= is_mark(x);
                i += 1;
                continue;
            }
        } else if x < 0xe0 {
            // Two bytes: U+0080..=U+009F are control characters.
            if x == 0xc2 && b[i + 1] < 0xa0 {
                (2, ' ')
            } else {
                i += 2;
                continue;
            }
        } else if x < 0xf0 {
            let u = (u32::from(x & 0x0f) << 12)
                | (u32::from(b[i + 1] & 0x3f) << 6)
                | u32::from(b[i + 2] & 0x3f);
            // CJK (U+3001..U+FEFE) first: nothing there folds.
            if (0x3001..0xfeff).contains(&u)
                || !matches!(u, 0xff01..=0xff5e | 0x3000 | 0x200b..=0x200d | 0x2060 | 0xfeff)
            {
                traditional |= set[(u / 64) as usize] & (1 << (u % 64)) != 0;
                i += 3;
                continue;
            }
            (3, char::from_u32(u).map_or('\0', fold_char))
        } else {
            // Four bytes: nothing to fold, never Traditional (the set covers U+0800..U+FFFF).
            i += 4;
            continue;
        };
        out.push_str(&raw[copied..i]);
        // Whatever folds becomes ASCII (or nothing).
        if f != '\0' {
            marks |= is_mark(f as u8);
            out.push(f);
        }
        i += len;
        copied = i;
    }
    out.push_str(&raw[copied..]);
    (out, traditional, marks)
}

/// Normalises a raw post into segments (see the module documentation).
pub fn normalize(raw: &str) -> Normalized {
    let set = traditional_set();
    // Whether the text may hold noise to strip or a repost chain (checked exactly later).
    let (mut folded, traditional, marks) = fold_bytes(raw, set);
    if traditional {
        // In place: fast2s maps 3-byte characters to 3-byte characters.
        fast2s::replace(&mut folded);
    }
    if !marks || !folded.contains("//@") {
        // The common case: no repost chain, one segment, at most one more allocation.
        let segments = if marks && has_noise(&folded) {
            segment(&folded, false).into_iter().collect()
        } else {
            let trimmed = folded.trim();
            if trimmed.len() != folded.len() {
                folded = trimmed.to_owned();
            }
            vec![Segment {
                text: folded,
                quoted: false,
            }]
        };
        return Normalized { segments };
    }
    let mut segments = Vec::with_capacity(2);
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
        segments.extend(segment(body, quoted));
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
    fn the_byte_scan_agrees_with_folding_on_every_character() {
        let set = traditional_set();
        let mut chars: Vec<char> = (0u32..=0xffff).filter_map(char::from_u32).collect();
        chars.extend(['😀', '𠀀', '\u{10FFFF}']);
        for c in chars {
            for s in [
                format!("{c}"),
                format!("a{c}b"),
                format!("微{c}信h"),
                format!("{c}{c}Ａ{c}"),
            ] {
                assert_eq!(fold_bytes(&s, set), fold(&s, set), "U+{:04X}", c as u32);
            }
        }
        // Runs that fold and runs that do not, side by side.
        for s in [
            "ＱＱ崩了？５０２WeChat　DOWN\u{0}微\u{200B}信當機了😀\u{85}//@Ａ:#[h",
            "",
            "abc",
            "ABC",
            "，。！",
        ] {
            assert_eq!(fold_bytes(s, set), fold(s, set), "{s:?}");
        }
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

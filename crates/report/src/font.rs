//! The font every plot label is drawn with, and the guarantee that no label ever shows a
//! "tofu" box.
//!
//! Which font: `BENGLEMA_FONT=/path/to/font.ttf|otf|ttc` when set (an unreadable file or one
//! that is not a font is an error, never a silent fallback); else the first well-known system
//! CJK font that exists and covers common hanzi; else the subset of WenQuanYi Micro Hei
//! compiled into the binary (`assets/fonts/benglema-sans.ttf`: ASCII, Latin-1, CJK
//! punctuation, full-width forms, all of GB2312 and every character of the repository's
//! data).
//!
//! Every label goes through [`Glyphs::clean`] before it is drawn: a character the chosen font
//! has no glyph for (`glyph_id == 0`) becomes its code point, `U+XXXX`, and is counted, so
//! the report can warn about it; invisible formatting characters (variation selectors,
//! zero-width joiners) are dropped and control characters become spaces.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ab_glyph::{Font, FontRef};

use crate::ReportError;

/// The embedded subset font (see `assets/fonts/README.md`).
pub static EMBEDDED_FONT: &[u8] = include_bytes!("../../../assets/fonts/benglema-sans.ttf");

/// Environment variable naming a font file to draw with instead of the default choice.
pub const FONT_ENV: &str = "BENGLEMA_FONT";

/// The family name plotters knows the chosen font by. In SVG files it is written as the
/// `font-family` of every text, so a viewer without it falls back to a CJK system font.
pub const FAMILY: &str =
    "benglema-sans, WenQuanYi Micro Hei, Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif";

/// System fonts tried, in order, when `BENGLEMA_FONT` is not set.
pub const SYSTEM_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\simhei.ttf",
];

/// Characters a system font must have to be chosen over the embedded one.
const PROBE: &str = "微信崩了吗投诉基线0123456789ABCxyz:%";

/// Where the drawing font came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontOrigin {
    /// `BENGLEMA_FONT`.
    Env(PathBuf),
    /// A well-known system path.
    System(PathBuf),
    /// The subset compiled into the binary.
    Embedded,
}

impl std::fmt::Display for FontOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FontOrigin::Env(p) => write!(f, "{} (from {FONT_ENV})", p.display()),
            FontOrigin::System(p) => write!(f, "{} (system font)", p.display()),
            FontOrigin::Embedded => {
                write!(f, "embedded benglema-sans (WenQuanYi Micro Hei subset)")
            }
        }
    }
}

/// A parsed font and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedFont {
    /// The parsed font (borrowing `'static` bytes: embedded, or read once and leaked).
    pub font: FontRef<'static>,
    /// The font file's bytes.
    pub bytes: &'static [u8],
    /// Where it came from.
    pub origin: FontOrigin,
}

impl LoadedFont {
    /// The embedded subset.
    pub fn embedded() -> LoadedFont {
        LoadedFont {
            font: FontRef::try_from_slice(EMBEDDED_FONT).expect("the embedded font parses"),
            bytes: EMBEDDED_FONT,
            origin: FontOrigin::Embedded,
        }
    }

    /// Reads a font file; `Err` says in one line why it cannot be used.
    pub fn from_file(path: &Path, origin: FontOrigin) -> Result<LoadedFont, ReportError> {
        let bad = |reason: String| ReportError::Font {
            path: path.to_owned(),
            reason,
        };
        let data = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        // The font lives as long as the process: plotters' font table wants 'static bytes.
        // It is read once per process (see `chosen`), so this is not a growing leak.
        let bytes: &'static [u8] = Box::leak(data.into_boxed_slice());
        let font = FontRef::try_from_slice(bytes).map_err(|_| {
            bad("not a TrueType/OpenType font (or font collection) this renderer can read".into())
        })?;
        Ok(LoadedFont {
            font,
            bytes,
            origin,
        })
    }

    /// Whether the font has a real glyph (not `.notdef`) for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.font.glyph_id(c).0 != 0
    }
}

/// Picks the font: `BENGLEMA_FONT`, else a system CJK font, else the embedded subset.
pub fn choose(env: Option<&std::ffi::OsStr>) -> Result<LoadedFont, ReportError> {
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(p);
        return LoadedFont::from_file(&path, FontOrigin::Env(path.clone()));
    }
    for p in SYSTEM_FONTS {
        let path = Path::new(p);
        if path.is_file() {
            if let Ok(f) = LoadedFont::from_file(path, FontOrigin::System(path.to_owned())) {
                if PROBE.chars().all(|c| f.covers(c)) {
                    return Ok(f);
                }
            }
        }
    }
    Ok(LoadedFont::embedded())
}

static CHOSEN: OnceLock<Result<LoadedFont, (PathBuf, String)>> = OnceLock::new();

/// The process-wide drawing font, chosen once and registered with plotters as [`FAMILY`].
pub fn chosen() -> Result<&'static LoadedFont, ReportError> {
    CHOSEN
        .get_or_init(|| {
            let f = choose(std::env::var_os(FONT_ENV).as_deref()).map_err(|e| match e {
                ReportError::Font { path, reason } => (path, reason),
                other => (PathBuf::from(FONT_ENV), other.to_string()),
            })?;
            plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, f.bytes)
                .map_err(|_| {
                    (
                        PathBuf::from(f.origin.to_string()),
                        "the plotting library rejected the font".to_owned(),
                    )
                })?;
            Ok(f)
        })
        .as_ref()
        .map_err(|(path, reason)| ReportError::Font {
            path: path.clone(),
            reason: reason.clone(),
        })
}

/// Label cleaning against one font, counting what it could not draw.
#[derive(Debug)]
pub struct Glyphs<'f> {
    font: &'f LoadedFont,
    missing: Mutex<BTreeMap<char, usize>>,
}

/// Whether `c` is an invisible formatting character that is better dropped than shown.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF
        | 0xE0000..=0xE007F)
}

impl<'f> Glyphs<'f> {
    /// Cleans labels for `font`.
    pub fn new(font: &'f LoadedFont) -> Self {
        Glyphs {
            font,
            missing: Mutex::new(BTreeMap::new()),
        }
    }

    /// The font.
    pub fn font(&self) -> &LoadedFont {
        self.font
    }

    /// `text` with every character the font cannot draw replaced by `U+XXXX`.
    pub fn clean(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_control() {
                out.push(' ');
            } else if invisible(c) {
            } else if c == ' ' || self.font.covers(c) {
                out.push(c);
            } else {
                *self
                    .missing
                    .lock()
                    .expect("not poisoned")
                    .entry(c)
                    .or_default() += 1;
                let code = format!("U+{:04X}", c as u32);
                // Even the fallback must be drawable; a font without ASCII gets '?'.
                if code.chars().all(|c| self.font.covers(c)) {
                    out.push_str(&code);
                } else if self.font.covers('?') {
                    out.push('?');
                }
            }
        }
        out
    }

    /// Characters replaced so far, with how often.
    pub fn missing(&self) -> BTreeMap<char, usize> {
        self.missing.lock().expect("not poisoned").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_covers_the_data_and_gb2312() {
        let f = LoadedFont::embedded();
        for c in "微信崩了吗？图片/文件:0.52 网络/服务器 闪退/打不开 腾讯云 唯品会 饿了么 12306 –—…“”·（）【】，。、"
            .chars()
            .filter(|c| *c != ' ')
        {
            assert!(f.covers(c), "{c} U+{:04X} missing", c as u32);
        }
        // The last hanzi of GB2312 level 2 (齄, row 0xF7) and a level-1 rarity.
        assert!(f.covers('齄') && f.covers('鼾'));
        assert!(
            EMBEDDED_FONT.len() < 2_600_000,
            "subset font grew to {} bytes",
            EMBEDDED_FONT.len()
        );
    }

    #[test]
    fn a_character_outside_the_font_becomes_its_code_point_not_a_box() {
        let f = LoadedFont::embedded();
        // 𠀀 (U+20000, CJK extension B) and 䶵 (U+4DB5, extension A) are outside GB2312.
        assert!(!f.covers('𠀀'));
        let g = Glyphs::new(&f);
        let s = g.clean("微信𠀀崩了😂");
        assert_eq!(s, "微信U+20000崩了U+1F602");
        assert!(
            s.chars().all(|c| f.covers(c)),
            "every drawn char has a glyph"
        );
        assert_eq!(g.missing().len(), 2);
        assert_eq!(g.missing()[&'𠀀'], 1);
        // Variation selectors vanish, controls become spaces, nothing is counted for them.
        assert_eq!(g.clean("❤\u{fe0f}a\tb"), "U+2764a b");
        assert_eq!(g.missing().len(), 3);
    }

    #[test]
    fn a_bad_font_override_is_one_clear_error() {
        let dir = std::env::temp_dir().join(format!("benglema-font-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_font = dir.join("not-a-font.ttf");
        std::fs::write(&not_font, b"hello").unwrap();
        let e = choose(Some(not_font.as_os_str())).unwrap_err().to_string();
        assert!(
            e.contains("not-a-font.ttf") && e.contains("not a TrueType"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        let e = choose(Some(dir.join("absent.ttf").as_os_str()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent.ttf"), "{e}");
        // A real font file named by the variable is used.
        let real = dir.join("real.ttf");
        std::fs::write(&real, EMBEDDED_FONT).unwrap();
        let f = choose(Some(real.as_os_str())).unwrap();
        assert_eq!(f.origin, FontOrigin::Env(real.clone()));
        assert!(f.covers('崩'));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The plain-text models in `models/`: service gazetteer, symptom taxonomy and cue lexicon.
//!
//! [`Models::embedded`] returns the copies compiled into the binary (so benglema works from
//! any directory); [`Models::from_dir`] loads edited copies. Loading validates that every
//! term is already in normalised form and that no alias names two services.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::classifier::{Classifier, CLASSIFIER_FILE};
use crate::normalize::normalize;
use crate::TextError;

/// Embedded `models/services.toml`.
pub const SERVICES_TOML: &str = include_str!("../../../models/services.toml");
/// Embedded `models/symptoms.toml`.
pub const SYMPTOMS_TOML: &str = include_str!("../../../models/symptoms.toml");
/// Embedded `models/cues.toml`.
pub const CUES_TOML: &str = include_str!("../../../models/cues.toml");
/// Embedded `models/userdict.txt`.
pub const USERDICT_TXT: &str = include_str!("../../../models/userdict.txt");
/// The embedded `models/classifier.txt` (written by `benglema train`; empty means none).
pub const CLASSIFIER_TXT: &str = include_str!("../../../models/classifier.txt");

/// One service of the gazetteer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Canonical name, as written in events and labels.
    pub name: String,
    /// Owning company, for grouping.
    #[serde(default)]
    pub company: String,
    /// Informational category (im, payment, ...).
    #[serde(default)]
    pub kind: String,
    /// Unambiguous aliases.
    pub aliases: Vec<String>,
    /// Aliases that are also ordinary words: they count only as the direct subject of a cue.
    #[serde(default)]
    pub weak_aliases: Vec<String>,
    /// The family this service is a separate product of (百度地图 → 百度): a post about it is
    /// about this service, and carries the parent in the signal's `also`.
    #[serde(default)]
    pub parent: Option<String>,
    /// The app this service is a feature inside (花呗 → 支付宝, 零钱通 → 微信): a post about it
    /// is about the app, and carries the feature in the signal's `also`.
    #[serde(default)]
    pub feature_of: Option<String>,
}

/// One symptom category of the taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymptomDef {
    /// Category name, as written in signals, events and labels.
    pub name: String,
    /// What the category covers.
    #[serde(default)]
    pub description: String,
    /// Terms that name the category.
    pub terms: Vec<String>,
    /// Terms that name it only when no other category is named.
    #[serde(default)]
    pub fallback_terms: Vec<String>,
}

/// Complaint cues by binding strength (see `models/cues.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintCues {
    /// Cues that find the nearest service in their clause.
    pub strong: Vec<String>,
    /// Cues whose subject must be the service (over fillers, parts and symptoms).
    pub bound: Vec<String>,
    /// Cues whose subject must be the service over fillers only.
    pub weak: Vec<String>,
    /// Potential-complement endings that make a token a strong cue (登录不了).
    pub potential_suffixes: Vec<String>,
    /// Tokens with such endings that are not cues (受不了).
    pub potential_exceptions: Vec<String>,
    /// Starting confidence of strong cues.
    pub strong_confidence: f32,
    /// Starting confidence of bound cues.
    pub bound_confidence: f32,
    /// Starting confidence of weak cues.
    pub weak_confidence: f32,
}

/// Recovery cues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCues {
    /// All recovery terms.
    pub terms: Vec<String>,
    /// Terms that need a directly bound service.
    pub bound_only: Vec<String>,
    /// Starting confidence.
    pub confidence: f32,
}

/// Denial cues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenialCues {
    /// Negators that turn a following complaint cue into a denial.
    pub negators: Vec<String>,
    /// Stand-alone denial terms.
    pub terms: Vec<String>,
    /// Starting confidence.
    pub confidence: f32,
}

/// Context words that shape how cues are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextWords {
    /// Other senses of 崩/挂/炸/卡.
    pub confounders: Vec<String>,
    /// Devices and networks (我手机卡了).
    pub devices: Vec<String>,
    /// Words that may stand between a service and its cue.
    pub fillers: Vec<String>,
    /// Parts of a service (服务器, app).
    pub parts: Vec<String>,
    /// Past markers.
    pub past: Vec<String>,
    /// Hypothesis markers.
    pub hypothetical: Vec<String>,
    /// Recent-past markers (刚才): such a complaint next to a recovery is history.
    pub recent: Vec<String>,
    /// Question markers.
    pub questions: Vec<String>,
    /// Cues that mean something else when an object follows in their clause (杨幂挂了labubu
    /// hung up a doll, 进不了教室 could not get into a room).
    #[serde(default)]
    pub transitive: Vec<String>,
}

/// The cue lexicon.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CueDefs {
    /// Complaint cues.
    pub complaint: ComplaintCues,
    /// Recovery cues.
    pub recovery: RecoveryCues,
    /// Denial cues.
    pub denial: DenialCues,
    /// Context words.
    pub context: ContextWords,
    /// New-service discovery.
    #[serde(default)]
    pub discovery: DiscoveryCues,
}

/// What lets the extractor read a service name that no gazetteer lists from the text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryCues {
    /// Complaint cues whose subject may be an unlisted service (崩了, 挂了, 宕机, 进不去...).
    pub cues: Vec<String>,
    /// Nouns in front of such a cue that are not services (游戏, 电脑, 心态...).
    pub stop: Vec<String>,
    /// Discovery cues with other senses (故障, 瘫痪, 罢工): an unlisted subject counts only
    /// with a service part between it and the cue (X系统故障).
    #[serde(default)]
    pub needs_part: Vec<String>,
    /// Words that are never part of a service name (我, 被, 把, 说): a title-like clause made
    /// of name words only is read whole as the name (蛋仔派对崩了).
    #[serde(default)]
    pub function: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    service: Vec<ServiceDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SymptomsFile {
    symptom: Vec<SymptomDef>,
}

/// All text models, validated.
#[derive(Debug, Clone)]
pub struct Models {
    /// Service gazetteer.
    pub services: Vec<ServiceDef>,
    /// Symptom taxonomy.
    pub symptoms: Vec<SymptomDef>,
    /// Cue lexicon.
    pub cues: CueDefs,
    /// Extra jieba user words from `userdict.txt`.
    pub user_words: Vec<UserWord>,
    /// The learned complaint classifier from `classifier.txt`, if there is one.
    pub classifier: Option<Classifier>,
}

/// One extra jieba word: the word, its frequency and its part-of-speech tag when given.
pub type UserWord = (String, Option<usize>, Option<String>);

/// Parses jieba's dictionary format (`word [freq] [tag]`, `#` comments).
fn parse_userdict(text: &str) -> Result<Vec<UserWord>, TextError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.split_whitespace();
        let word = it.next().unwrap_or_default().to_owned();
        let freq = match it.next() {
            Some(f) => Some(f.parse::<usize>().map_err(|_| TextError::Model {
                file: "userdict.txt".into(),
                message: format!("line {}: frequency {f:?} is not a whole number", i + 1),
            })?),
            None => None,
        };
        out.push((word, freq, it.next().map(str::to_owned)));
    }
    Ok(out)
}

fn parse<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, TextError> {
    toml::from_str(text).map_err(|e| TextError::Model {
        file: file.to_owned(),
        message: e.to_string(),
    })
}

impl Models {
    /// The models compiled into the binary from `models/`.
    pub fn embedded() -> Models {
        let mut m = Self::from_strs(SERVICES_TOML, SYMPTOMS_TOML, CUES_TOML, USERDICT_TXT)
            .expect("embedded models are validated by the test suite");
        if !CLASSIFIER_TXT.trim().is_empty() {
            m.classifier = Some(
                Classifier::parse(CLASSIFIER_TXT)
                    .expect("the embedded classifier is validated by the test suite"),
            );
        }
        m
    }

    /// Loads `services.toml`, `symptoms.toml`, `cues.toml` and (if present) `userdict.txt`
    /// from a directory.
    pub fn from_dir(dir: &Path) -> Result<Models, TextError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|source| TextError::Io {
                path: p.display().to_string(),
                source,
            })
        };
        let userdict = if dir.join("userdict.txt").exists() {
            read("userdict.txt")?
        } else {
            String::new()
        };
        let mut m = Self::from_strs(
            &read("services.toml")?,
            &read("symptoms.toml")?,
            &read("cues.toml")?,
            &userdict,
        )?;
        if dir.join(CLASSIFIER_FILE).exists() {
            m.classifier =
                Some(
                    Classifier::parse(&read(CLASSIFIER_FILE)?).map_err(|e| TextError::Model {
                        file: dir.join(CLASSIFIER_FILE).display().to_string(),
                        message: e.to_string(),
                    })?,
                );
        }
        Ok(m)
    }

    /// Parses and validates the model texts.
    pub fn from_strs(
        services: &str,
        symptoms: &str,
        cues: &str,
        userdict: &str,
    ) -> Result<Models, TextError> {
        let services: ServicesFile = parse("services.toml", services)?;
        let symptoms: SymptomsFile = parse("symptoms.toml", symptoms)?;
        let cues: CueDefs = parse("cues.toml", cues)?;
        let m = Models {
            services: services.service,
            symptoms: symptoms.symptom,
            cues,
            user_words: parse_userdict(userdict)?,
            classifier: None,
        };
        m.validate()?;
        Ok(m)
    }

    /// Every term of every model with the file it belongs to.
    pub fn all_terms(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::new();
        for s in &self.services {
            v.extend(s.aliases.iter().map(|t| ("services.toml", t.as_str())));
            v.extend(s.weak_aliases.iter().map(|t| ("services.toml", t.as_str())));
        }
        for s in &self.symptoms {
            v.extend(s.terms.iter().map(|t| ("symptoms.toml", t.as_str())));
            v.extend(
                s.fallback_terms
                    .iter()
                    .map(|t| ("symptoms.toml", t.as_str())),
            );
        }
        v.extend(
            self.user_words
                .iter()
                .map(|w| ("userdict.txt", w.0.as_str())),
        );
        let c = &self.cues;
        for list in [
            &c.complaint.strong,
            &c.complaint.bound,
            &c.complaint.weak,
            &c.complaint.potential_suffixes,
            &c.complaint.potential_exceptions,
            &c.recovery.terms,
            &c.recovery.bound_only,
            &c.denial.negators,
            &c.denial.terms,
            &c.context.confounders,
            &c.context.devices,
            &c.context.fillers,
            &c.context.parts,
            &c.context.past,
            &c.context.hypothetical,
            &c.context.recent,
            &c.context.questions,
            &c.context.transitive,
            &c.discovery.cues,
            &c.discovery.stop,
            &c.discovery.needs_part,
            &c.discovery.function,
        ] {
            v.extend(list.iter().map(|t| ("cues.toml", t.as_str())));
        }
        v
    }

    fn validate(&self) -> Result<(), TextError> {
        let bad = |file: &str, message: String| TextError::Model {
            file: file.to_owned(),
            message,
        };
        for (file, t) in self.all_terms() {
            if t.is_empty() || t.chars().any(char::is_whitespace) {
                return Err(bad(
                    file,
                    format!("term {t:?} is empty or contains whitespace; terms are single tokens"),
                ));
            }
            let n = normalize(t);
            if n.own() != t {
                return Err(bad(
                    file,
                    format!(
                        "term {t:?} is not normalised; write it as {:?} (half-width, lowercase, simplified)",
                        n.own()
                    ),
                ));
            }
        }
        let mut owner: HashMap<&str, &str> = HashMap::new();
        for s in &self.services {
            if s.name.is_empty() {
                return Err(bad("services.toml", "a service has an empty name".into()));
            }
            for a in s.aliases.iter().chain(&s.weak_aliases) {
                if let Some(prev) = owner.insert(a, &s.name) {
                    if prev != s.name {
                        return Err(bad(
                            "services.toml",
                            format!("alias {a:?} names both {prev} and {}", s.name),
                        ));
                    }
                }
            }
        }
        for s in &self.services {
            for (field, target) in [("parent", &s.parent), ("feature_of", &s.feature_of)] {
                let Some(t) = target else { continue };
                if t == &s.name || !self.services.iter().any(|x| &x.name == t) {
                    return Err(bad(
                        "services.toml",
                        format!(
                            "{}: {field} = {t:?} is not the name of another service; add that service or fix the name",
                            s.name
                        ),
                    ));
                }
            }
            if s.parent.is_some() && s.feature_of.is_some() {
                return Err(bad(
                    "services.toml",
                    format!("{}: give either parent or feature_of, not both", s.name),
                ));
            }
        }
        for (name, x) in [
            (
                "complaint.strong_confidence",
                self.cues.complaint.strong_confidence,
            ),
            (
                "complaint.bound_confidence",
                self.cues.complaint.bound_confidence,
            ),
            (
                "complaint.weak_confidence",
                self.cues.complaint.weak_confidence,
            ),
            ("recovery.confidence", self.cues.recovery.confidence),
            ("denial.confidence", self.cues.denial.confidence),
        ] {
            if !(0.0..=1.0).contains(&x) {
                return Err(bad("cues.toml", format!("{name} = {x} is outside [0, 1]")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_models_are_valid() {
        let m = Models::from_strs(SERVICES_TOML, SYMPTOMS_TOML, CUES_TOML, USERDICT_TXT).unwrap();
        assert!(m.services.iter().any(|s| s.name == "微信"));
        assert!(m.symptoms.iter().any(|s| s.name == "图片/文件"));
    }

    #[test]
    fn bad_models_are_explained() {
        let svc = "[[service]]\nname = \"微信\"\naliases = [\"WeChat\"]\n";
        let e = Models::from_strs(svc, SYMPTOMS_TOML, CUES_TOML, "").unwrap_err();
        assert!(e.to_string().contains("write it as \"wechat\""), "{e}");
        let svc = "[[service]]\nname = \"微信\"\naliases = [\"wx\"]\n[[service]]\nname = \"QQ\"\naliases = [\"wx\"]\n";
        let e = Models::from_strs(svc, SYMPTOMS_TOML, CUES_TOML, "").unwrap_err();
        assert!(e.to_string().contains("names both 微信 and QQ"), "{e}");
        let svc = "[[service]]\nname = \"花呗\"\nfeature_of = \"支付包\"\naliases = [\"花呗\"]\n";
        let e = Models::from_strs(svc, SYMPTOMS_TOML, CUES_TOML, "").unwrap_err();
        assert!(
            e.to_string()
                .contains("花呗: feature_of = \"支付包\" is not the name of another service"),
            "{e}"
        );
        let svc = "[[service]]\nname = \"百度\"\naliases = [\"百度\"]\n[[service]]\nname = \"百度地图\"\nparent = \"百度\"\nfeature_of = \"百度\"\naliases = [\"百度地图\"]\n";
        let e = Models::from_strs(svc, SYMPTOMS_TOML, CUES_TOML, "").unwrap_err();
        assert!(e.to_string().contains("either parent or feature_of"), "{e}");
        let e =
            Models::from_strs("[[service]]\nnom = 1", SYMPTOMS_TOML, CUES_TOML, "").unwrap_err();
        assert!(e.to_string().starts_with("services.toml:"), "{e}");
        let e = Models::from_strs(
            SERVICES_TOML,
            "[[symptom]]\nname=\"x\"\nterms=[\"a b\"]",
            CUES_TOML,
            "",
        )
        .unwrap_err();
        assert!(e.to_string().contains("whitespace"), "{e}");
        let e = Models::from_strs(SERVICES_TOML, SYMPTOMS_TOML, CUES_TOML, "# c\n微信 many\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("userdict.txt: line 2: frequency \"many\""),
            "{e}"
        );
        let m = Models::from_strs(
            SERVICES_TOML,
            SYMPTOMS_TOML,
            CUES_TOML,
            "鹅厂 500 nz\n崩了吗\n",
        )
        .unwrap();
        assert_eq!(
            m.user_words[0],
            ("鹅厂".into(), Some(500), Some("nz".into()))
        );
        assert_eq!(m.user_words[1], ("崩了吗".into(), None, None));
        let e = Models::from_dir(Path::new("/nonexistent")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/services.toml"), "{e}");
    }
}

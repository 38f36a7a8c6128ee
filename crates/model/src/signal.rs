//! What the complaint extractor says about one post (the `signal` of `benglema classify`).

use serde::{Deserialize, Serialize};

/// What a post says about a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalKind {
    /// The service is failing (or the author asks whether it is): evidence of an outage.
    Complaint,
    /// The service is back (恢复了, 好了): evidence that an outage is ending.
    Recovery,
    /// The service is fine (没崩, 我的正常): evidence against an outage.
    Denial,
}

impl SignalKind {
    /// The lowercase name used in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Complaint => "complaint",
            SignalKind::Recovery => "recovery",
            SignalKind::Denial => "denial",
        }
    }
}

/// A post's outage signal: which service, what kind of statement, which symptoms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Canonical service name (from the gazetteer).
    pub service: String,
    /// Complaint, recovery or denial.
    pub kind: SignalKind,
    /// Symptom categories named by the post (taxonomy names), in order of first mention.
    pub symptoms: Vec<String>,
    /// The cue phrase that carried the decision, as written after normalisation (e.g. `崩了`).
    pub cue: String,
    /// Confidence in [0, 1] that the signal is right.
    pub confidence: f32,
    /// Other services the same statement names (e.g. QQ in 微信和QQ都崩了).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// The entries of `also` that are the same service under another name of its family
    /// (百度 for 百度地图, 花呗 for 支付宝): they say which service, not that a second one fails,
    /// so the detector counts the post for `service` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    /// The service is not in the gazetteer: its name was read from the text, as the words
    /// in front of the complaint (小红书 in 小红书又崩了).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discovered: bool,
}

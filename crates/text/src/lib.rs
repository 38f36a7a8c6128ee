//! # benglema-text
//!
//! Chinese complaint extraction: from a post's raw text to an optional outage
//! [`Signal`](benglema_model::Signal).
//!
//! - [`normalize()`] folds width, case and script, drops URLs and mentions, keeps hashtag text
//!   and splits repost chains into [`Normalized`] segments;
//! - [`Models`] holds the plain-text models of `models/` (service gazetteer, symptom
//!   taxonomy, cue lexicon), embedded or loaded from a directory;
//! - [`Extractor`] segments with jieba-rs (model terms added as user words) and binds cues
//!   to services, producing complaints, recoveries and denials.

mod classifier;
mod error;
mod eval;
mod extract;
mod lexicon;
mod models;
mod normalize;

pub use classifier::{hash_feature, Classifier, CLASSIFIER_FILE};
pub use error::TextError;
pub use eval::{
    evaluate, score_titles, EvalReport, Label, LabelledPost, Miss, TitleLabel, TitleReport,
};
pub use extract::{Extractor, Reading, Statement, CLASSIFIER_WEIGHT};
pub use models::{
    ComplaintCues, ContextWords, CueDefs, DenialCues, DiscoveryCues, Models, RecoveryCues,
    ServiceDef, SymptomDef, CLASSIFIER_TXT, CUES_TOML, SERVICES_TOML, SYMPTOMS_TOML,
};
pub use normalize::{normalize, Normalized, Segment};

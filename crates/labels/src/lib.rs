//! # benglema-labels
//!
//! Ground truth: the incident label file and drafting labels from news articles.
//!
//! - [`read_incidents`] / [`write_incidents`]: `data/labels/incidents.csv` (PRODUCT.md
//!   columns) through polars, validated row by row into [`Incident`](benglema_model::Incident)s;
//! - [`Article`]: a news article (front matter, HTML or plain text) as dated sentences;
//! - [`timex`]: Chinese time expressions (上午11点55分, 凌晨两点左右, 早上10:00左右, 深夜);
//! - [`draft_incidents`]: turns an article into draft incident rows, one per affected service,
//!   using the complaint extractor sentence by sentence.

mod article;
mod draft;
mod error;
mod incidents;
pub mod timex;

pub use article::Article;
pub use draft::{draft_incidents, DraftOptions, Drafted};
pub use error::LabelsError;
pub use incidents::{parse_incidents, read_incidents, write_incidents};

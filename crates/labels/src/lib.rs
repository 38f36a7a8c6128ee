//! # benglema-labels
//!
//! Ground truth from news articles: drafting incident rows. (The label file itself is a data
//! contract, read and written by `benglema-io`.)
//!
//! - [`Article`]: a news article (front matter, HTML or plain text) as dated sentences;
//! - [`timex`]: Chinese time expressions (上午11点55分, 凌晨两点左右, 早上10:00左右, 深夜);
//! - [`draft_incidents`]: turns an article into draft incident rows, one per affected service,
//!   using the complaint extractor sentence by sentence.

mod article;
mod draft;
mod error;
pub mod timex;

pub use article::Article;
pub use draft::{draft_incidents, DraftOptions, Drafted};
pub use error::LabelsError;

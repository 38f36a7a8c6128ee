//! The counting half of the engine: posts in, closed buckets of [`BucketCounts`] out.
//!
//! A [`Tally`] de-duplicates post ids, keeps the buckets that may still receive posts, and
//! closes them as its watermark (the newest event time seen minus the allowed lateness)
//! passes their end. A post whose bucket is already closed is *late*: counted, not added. A
//! post id seen within the lateness horizon is a *duplicate*: counted, not added. The first
//! post opens the buckets from the allowed lateness before it; a post before that is late.
//!
//! A tally knows nothing of series: what it closes goes to a [`crate::Stepper`], in the same
//! process (the [`crate::Engine`]) or, in a scaled-out `run`, one tally per input partition
//! whose counts are merged per bucket on the way. It does no I/O and reads no clock.

use std::collections::BTreeMap;

use benglema_model::SignalKind;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::counts::{BucketCounts, Sample};
use crate::engine::{Admission, Observation, Stats};
use crate::{DetectError, DetectorConfig};

/// Everything a tally knows; serialise it to checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TallyState {
    /// First bucket not yet closed.
    next_bucket: Option<i64>,
    /// Newest event time seen.
    max_seen: Option<i64>,
    open: BTreeMap<i64, BucketCounts>,
    seen: FxHashMap<String, i64>,
    /// Posts, complaints, duplicates, late (the other counters are the stepper's).
    stats: Stats,
}

/// The counting half of the engine. See the module documentation.
#[derive(Debug, Clone)]
pub struct Tally {
    bucket_seconds: i64,
    lateness: i64,
    sample_posts: usize,
    discovery: bool,
    state: TallyState,
}

impl Tally {
    /// A tally resuming from `state` (`TallyState::default()` for a fresh one); fails when a
    /// parameter is out of range.
    pub fn restore(config: &DetectorConfig, state: TallyState) -> Result<Self, DetectError> {
        config.validate()?;
        Ok(Tally {
            bucket_seconds: config.time.bucket_seconds,
            lateness: config.time.allowed_lateness_seconds,
            sample_posts: config.lifecycle.sample_posts,
            discovery: config.discovery.enabled,
            state,
        })
    }

    /// A copy of the state, to checkpoint.
    pub fn snapshot(&self) -> TallyState {
        self.state.clone()
    }

    /// Posts, complaints, duplicates and late posts so far.
    pub fn stats(&self) -> Stats {
        self.state.stats
    }

    /// The first bucket not yet closed (`None` before the first post): every bucket before
    /// it has been handed out.
    pub fn through(&self) -> Option<i64> {
        self.state.next_bucket
    }

    /// The watermark in seconds: every bucket ending at or before it is closed.
    pub fn watermark(&self) -> Option<i64> {
        self.state.next_bucket.map(|b| b * self.bucket_seconds)
    }

    /// Takes one post; buckets it closes are appended to `closed`, oldest first.
    pub fn observe(
        &mut self,
        obs: Observation<'_>,
        closed: &mut Vec<(i64, BucketCounts)>,
    ) -> Admission {
        let st = &mut self.state;
        if st.seen.contains_key(obs.id) {
            st.stats.duplicates += 1;
            return Admission::Duplicate;
        }
        let b = obs.at.div_euclid(self.bucket_seconds);
        if st.next_bucket.is_some_and(|nb| b < nb) {
            st.stats.late += 1;
            return Admission::Late;
        }
        st.seen.insert(obs.id.to_owned(), obs.at);
        st.stats.posts += 1;
        let signal = obs.signal.filter(|s| self.discovery || !s.discovered);
        let bucket = st.open.entry(b).or_default();
        bucket.posts += 1;
        if let Some(sig) = signal {
            let kind = sig.kind;
            if kind == SignalKind::Complaint {
                bucket.complaint_posts += 1;
                st.stats.complaints += 1;
            }
            // A family name (百度 beside 百度地图) says which service, not that another fails.
            let services = std::iter::once(&sig.service)
                .chain(sig.also.iter().filter(|a| !sig.related.contains(a)));
            for service in services {
                let sc = bucket.services.entry(service.clone()).or_default();
                sc.discovered |= sig.discovered;
                match kind {
                    SignalKind::Complaint => {
                        sc.complaints += 1;
                        for s in &sig.symptoms {
                            *sc.symptoms.entry(s.clone()).or_default() += 1;
                        }
                        for t in obs.terms {
                            *sc.terms.entry((*t).to_owned()).or_default() += 1;
                        }
                        if sc.wants_sample(obs.at, obs.id, self.sample_posts) {
                            let sample = Sample::new(obs.at, obs.id, obs.text);
                            sc.offer_sample(sample, self.sample_posts);
                        }
                    }
                    SignalKind::Recovery => sc.recoveries += 1,
                    SignalKind::Denial => {}
                }
            }
        }
        if st.max_seen.is_none_or(|m| obs.at > m) {
            st.max_seen = Some(obs.at);
            if st.next_bucket.is_none() {
                // The first post opens the buckets the allowed lateness reaches back to, so
                // a post a little older than the first is not late (whichever partition
                // the first post went to).
                st.next_bucket = Some((obs.at - self.lateness).div_euclid(self.bucket_seconds));
            }
            self.advance_to(obs.at - self.lateness, closed);
        }
        Admission::Accepted
    }

    /// Moves the watermark to `watermark` (seconds) and closes every bucket that ends at or
    /// before it (use it when the input is idle); it never moves the watermark back, nor
    /// before the first post.
    pub fn advance_to(&mut self, watermark: i64, closed: &mut Vec<(i64, BucketCounts)>) {
        let st = &mut self.state;
        let Some(nb) = st.next_bucket else { return };
        let through = watermark.div_euclid(self.bucket_seconds);
        if through <= nb {
            return;
        }
        let rest = st.open.split_off(&through);
        closed.extend(std::mem::replace(&mut st.open, rest));
        st.next_bucket = Some(through);
        // Ids older than the lateness horizon can only come back late: forget them.
        let horizon = through * self.bucket_seconds - self.lateness - self.bucket_seconds;
        st.seen.retain(|_, at| *at >= horizon);
    }

    /// End of input: closes every open bucket.
    pub fn flush(&mut self, closed: &mut Vec<(i64, BucketCounts)>) {
        if let Some(&last) = self.state.open.keys().next_back() {
            self.advance_to((last + 1) * self.bucket_seconds, closed);
        }
    }
}

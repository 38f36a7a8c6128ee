//! What one time bucket holds once its posts are counted: the posts (the exposure), the
//! complaint posts, and per service the complaints, recoveries, symptoms, terms and sample
//! posts an event is made of.
//!
//! Counts are what the two halves of the engine pass each other ([`crate::Tally`] makes them,
//! [`crate::Stepper`] steps the series with them), so they are also what travels between the
//! two stages of a scaled-out `run`. Counts of the same bucket from disjoint sets of posts
//! [`merge`](BucketCounts::merge) to the counts of the union, whatever the order: sums, and
//! for samples the `sample_posts` earliest posts by `(created_at, id)`. So, given the same
//! posts in a bucket, how they were spread over partitions never changes its counts (which
//! posts a partition's tally takes as timely can depend on its order, see [`crate::Tally`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest sample text kept, in characters (a status page shows it; Weibo's own preview
/// is about as long).
pub const SAMPLE_TEXT_CHARS: usize = 280;

/// One sample post of a bucket: its event time, id and text (ordered by time, then id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sample {
    /// Event time, seconds since the Unix epoch.
    pub at: i64,
    /// Post id.
    pub id: String,
    /// The post's text, cut to [`SAMPLE_TEXT_CHARS`] characters (empty in checkpoints
    /// written before texts were kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

impl Sample {
    /// A sample of a post, its text cut to [`SAMPLE_TEXT_CHARS`] characters.
    pub fn new(at: i64, id: &str, text: &str) -> Self {
        let text = match text.char_indices().nth(SAMPLE_TEXT_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        };
        Sample {
            at,
            id: id.to_owned(),
            text,
        }
    }
}

/// One service's posts in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceCounts {
    /// The service was discovered from text, not named by the gazetteer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discovered: bool,
    /// Complaint posts naming it.
    #[serde(default)]
    pub complaints: u64,
    /// Recovery posts naming it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub recoveries: u64,
    /// Complaints per symptom.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub symptoms: BTreeMap<String, u64>,
    /// Complaints per content term.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub terms: BTreeMap<String, u64>,
    /// The earliest complaint posts, by `(at, id)`, at most `sample_posts` of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ServiceCounts {
    /// Whether a post at `(at, id)` would be among the `keep` earliest samples (so that a
    /// sample is only built, its text copied, when it is kept).
    pub fn wants_sample(&self, at: i64, id: &str, keep: usize) -> bool {
        self.samples.len() < keep
            || self
                .samples
                .last()
                .is_some_and(|l| (at, id) < (l.at, l.id.as_str()))
    }

    /// Keeps `s` if it is among the `keep` earliest samples.
    pub fn offer_sample(&mut self, s: Sample, keep: usize) {
        if self.samples.len() >= keep && self.samples.last().is_none_or(|l| &s >= l) {
            return;
        }
        let at = self.samples.partition_point(|x| x < &s);
        if self.samples.get(at) == Some(&s) {
            return;
        }
        self.samples.insert(at, s);
        self.samples.truncate(keep);
    }

    /// Adds the counts of other posts of the same bucket.
    pub fn merge(&mut self, other: ServiceCounts, keep: usize) {
        self.discovered |= other.discovered;
        self.complaints = self.complaints.saturating_add(other.complaints);
        self.recoveries = self.recoveries.saturating_add(other.recoveries);
        add(&mut self.symptoms, other.symptoms);
        add(&mut self.terms, other.terms);
        for s in other.samples {
            self.offer_sample(s, keep);
        }
    }
}

fn add(into: &mut BTreeMap<String, u64>, from: BTreeMap<String, u64>) {
    for (k, v) in from {
        let n = into.entry(k).or_default();
        *n = n.saturating_add(v);
    }
}

/// All posts of one bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketCounts {
    /// Posts counted (complaints included).
    pub posts: u64,
    /// Posts with a complaint signal (each once, however many services it names); the
    /// exposure of a series is `posts - complaint_posts`.
    pub complaint_posts: u64,
    /// Per service named.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ServiceCounts>,
}

impl BucketCounts {
    /// Adds the counts of other posts of the same bucket (see the module documentation).
    pub fn merge(&mut self, other: BucketCounts, keep: usize) {
        self.posts = self.posts.saturating_add(other.posts);
        self.complaint_posts = self.complaint_posts.saturating_add(other.complaint_posts);
        for (name, c) in other.services {
            match self.services.get_mut(&name) {
                Some(mine) => mine.merge(c, keep),
                None => {
                    self.services.insert(name, c);
                }
            }
        }
    }

    /// The bucket as `groups` groups of services see it (see [`group_of`]): each gets the
    /// posts and complaint posts (the exposure) and its own services.
    pub fn split(self, groups: u32) -> Vec<BucketCounts> {
        let mut out: Vec<BucketCounts> = (0..groups.max(1))
            .map(|_| BucketCounts {
                posts: self.posts,
                complaint_posts: self.complaint_posts,
                services: BTreeMap::new(),
            })
            .collect();
        for (name, c) in self.services {
            let g = group_of(&name, c.discovered, groups) as usize;
            out[g].services.insert(name, c);
        }
        out
    }

    /// Posts not complaining: the exposure of every series in this bucket.
    pub fn exposure(&self) -> u64 {
        self.posts.saturating_sub(self.complaint_posts)
    }
}

/// Which of `groups` groups of series a service belongs to: a hash of its name (FNV-1a,
/// stable across versions and machines), except that every discovered name is in one group,
/// since discovered series share their admission sketch and pooled baseline.
pub fn group_of(service: &str, discovered: bool, groups: u32) -> u32 {
    let key: &[u8] = if discovered {
        b"\0discovered"
    } else {
        service.as_bytes()
    };
    let mut h: u32 = 0x811c_9dc5;
    for &byte in key {
        h ^= u32::from(byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % groups.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: i64, id: &str) -> Sample {
        Sample::new(at, id, &format!("post {id}"))
    }

    #[test]
    fn sample_texts_are_cut_on_a_character_boundary() {
        let long = "微信崩了".repeat(100);
        let s = Sample::new(1, "a", &long);
        assert_eq!(s.text.chars().count(), SAMPLE_TEXT_CHARS + 1);
        assert!(s.text.ends_with('…'));
        assert_eq!(Sample::new(1, "a", "短").text, "短");
        // Old checkpoints (no text) still read.
        let old: Sample = serde_json::from_str(r#"{"at":1,"id":"a"}"#).unwrap();
        assert_eq!(old.text, "");
    }

    fn counts(samples: &[(i64, &str)]) -> ServiceCounts {
        let mut c = ServiceCounts::default();
        for (at, id) in samples {
            c.complaints += 1;
            *c.symptoms.entry("登录".into()).or_default() += 1;
            c.offer_sample(sample(*at, id), 3);
        }
        c
    }

    #[test]
    fn samples_keep_the_earliest_whatever_the_order() {
        let a = counts(&[(5, "e"), (1, "a"), (3, "c"), (9, "z")]);
        assert_eq!(
            a.samples,
            vec![sample(1, "a"), sample(3, "c"), sample(5, "e")]
        );
        let b = counts(&[(9, "z"), (5, "e"), (3, "c"), (1, "a")]);
        assert_eq!(a, b);
        // Ties in time are broken by id; a sample offered twice is kept once.
        let mut c = counts(&[(1, "b"), (1, "a")]);
        c.offer_sample(sample(1, "a"), 3);
        assert_eq!(c.samples, vec![sample(1, "a"), sample(1, "b")]);
        // wants_sample agrees with offer_sample.
        let full = counts(&[(1, "a"), (3, "c"), (5, "e")]);
        assert!(full.wants_sample(4, "d", 3));
        assert!(full.wants_sample(5, "d", 3));
        assert!(!full.wants_sample(5, "e", 3));
        assert!(!full.wants_sample(6, "a", 3));
        assert!(c.wants_sample(9, "z", 3));
    }

    #[test]
    fn merging_partitions_of_a_bucket_gives_the_whole_bucket() {
        let posts = [(4, "d"), (2, "b"), (7, "g"), (1, "a"), (6, "f")];
        let whole = counts(&posts);
        for split in 0..posts.len() {
            let (x, y) = posts.split_at(split);
            let mut m = BucketCounts {
                posts: 10,
                complaint_posts: x.len() as u64,
                services: BTreeMap::from([("微信".to_owned(), counts(x))]),
            };
            m.merge(
                BucketCounts {
                    posts: 20,
                    complaint_posts: y.len() as u64,
                    services: BTreeMap::from([("微信".to_owned(), counts(y))]),
                },
                3,
            );
            assert_eq!(m.services["微信"].samples, whole.samples, "split {split}");
            assert_eq!(m.services["微信"].complaints, 5);
            assert_eq!(m.services["微信"].symptoms["登录"], 5);
            assert_eq!(m.exposure(), 30 - 5);
        }
    }
}

//! The post contract: one Kafka message value or one JSONL line, parsed and validated.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::{from_epoch, parse_time, TimeError};

/// Largest record accepted, in bytes. Weibo caps a post at a few thousand characters; a
/// record beyond this is almost certainly not a post, and refusing it bounds memory.
pub const MAX_POST_BYTES: usize = 256 * 1024;

/// One social-media post, as accepted by every benglema input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Source id (integers are kept as their decimal text); used to drop re-deliveries.
    pub id: String,
    /// Creation time, with the offset it was written with (UTC for epoch numbers).
    pub created_at: DateTime<FixedOffset>,
    /// The post's text, non-empty.
    pub text: String,
    /// Author id, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Number of reposts, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reposts_count: Option<u64>,
    /// Client or platform the post came from, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why a record is not a valid post. Every variant names what is wrong and, where it helps,
/// how to fix it; the text is what goes into dead-letter reasons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    /// The record is larger than [`MAX_POST_BYTES`].
    #[error("record is {bytes} bytes, larger than the {limit}-byte limit for one post")]
    TooLarge {
        /// Size of the record.
        bytes: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The record is not valid UTF-8.
    #[error("record is not valid UTF-8 (first bad byte at offset {valid_up_to}); re-encode the source as UTF-8")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// The record is not JSON.
    #[error("record is not valid JSON: {0}")]
    Json(String),
    /// The record is JSON but not an object.
    #[error("record is JSON {0}, not an object like {{\"id\":..,\"created_at\":..,\"text\":..}}")]
    NotObject(&'static str),
    /// A required field is absent (or null).
    #[error("missing field `{field}`{hint}")]
    Missing {
        /// The field.
        field: &'static str,
        /// Accepted aliases, as a hint.
        hint: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("field `{field}` is {found}, expected {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// `text` is empty or only whitespace.
    #[error("field `{field}` is empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A time field could not be read.
    #[error("field `{field}`: {source}")]
    Time {
        /// The field.
        field: &'static str,
        /// What was wrong with it.
        source: TimeError,
    },
}

/// Accepted names of the time field, in order of preference.
const TIME_FIELDS: [&str; 3] = ["created_at", "timestamp", "time"];
/// Accepted names of the text field, in order of preference.
const TEXT_FIELDS: [&str; 2] = ["text", "content"];

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Takes the first present, non-null field among `names`.
fn first_field(
    obj: &mut serde_json::Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, Value)> {
    names.iter().find_map(|&n| match obj.remove(n) {
        Some(Value::Null) | None => None,
        Some(v) => Some((n, v)),
    })
}

fn id_text(field: &'static str, v: Value) -> Result<String, PostError> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                Err(PostError::Empty { field })
            } else if t.len() == s.len() {
                Ok(s)
            } else {
                Ok(t.to_owned())
            }
        }
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(PostError::WrongType {
            field,
            expected: "a string or an integer",
            found: type_name(&other),
        }),
    }
}

impl Post {
    /// Parses one record (a Kafka message value or a JSONL line) under the post contract.
    pub fn parse(bytes: &[u8]) -> Result<Post, PostError> {
        if bytes.len() > MAX_POST_BYTES {
            return Err(PostError::TooLarge {
                bytes: bytes.len(),
                limit: MAX_POST_BYTES,
            });
        }
        // simdutf8's check is several times faster than std's on Chinese text; std's, run
        // on the records it refuses, says where.
        let s = match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => s,
            Err(_) => std::str::from_utf8(bytes).map_err(|e| PostError::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            })?,
        };
        Self::parse_str(s)
    }

    /// Parses one record that is already text.
    pub fn parse_str(s: &str) -> Result<Post, PostError> {
        if s.len() > MAX_POST_BYTES {
            return Err(PostError::TooLarge {
                bytes: s.len(),
                limit: MAX_POST_BYTES,
            });
        }
        // Most records are in the canonical form: read those straight into their fields
        // (about three times faster than building a JSON value first). Anything else (an
        // alias, a number, a null, a malformed extra, an error to explain) goes the general
        // way, which gives the same post for every record the fast way accepts.
        if let Some(p) = Self::parse_canonical(s) {
            return Ok(p);
        }
        let v: Value = serde_json::from_str(s).map_err(|e| PostError::Json(e.to_string()))?;
        Self::from_value(v)
    }

    /// The post of a record in the canonical form (`id`, `created_at` and `text` strings;
    /// `user_id`, `source` strings and `reposts_count` an integer when present), or `None`
    /// for the general path to decide.
    fn parse_canonical(s: &str) -> Option<Post> {
        #[derive(Deserialize)]
        struct Canonical<'a> {
            #[serde(borrow)]
            id: Cow<'a, str>,
            #[serde(borrow)]
            created_at: Cow<'a, str>,
            #[serde(borrow)]
            text: Cow<'a, str>,
            #[serde(default, borrow)]
            user_id: Option<Cow<'a, str>>,
            #[serde(default)]
            reposts_count: Option<u64>,
            #[serde(default, borrow)]
            source: Option<Cow<'a, str>>,
        }
        let c: Canonical<'_> = serde_json::from_str(s).ok()?;
        let id = c.id.trim();
        if id.is_empty() || c.text.trim().is_empty() {
            return None;
        }
        let created_at = parse_time(&c.created_at).ok()?;
        let user_id = c.user_id.and_then(|u| {
            let t = u.trim();
            (!t.is_empty()).then(|| t.to_owned())
        });
        Some(Post {
            id: id.to_owned(),
            created_at,
            text: c.text.into_owned(),
            user_id,
            reposts_count: c.reposts_count,
            source: c.source.map(Cow::into_owned),
        })
    }

    /// Validates an already-parsed JSON value under the post contract.
    pub fn from_value(v: Value) -> Result<Post, PostError> {
        let mut obj = match v {
            Value::Object(m) => m,
            other => return Err(PostError::NotObject(type_name(&other))),
        };
        let id = match first_field(&mut obj, &["id"]) {
            Some((f, v)) => id_text(f, v)?,
            None => {
                return Err(PostError::Missing {
                    field: "id",
                    hint: "",
                })
            }
        };
        let created_at = match first_field(&mut obj, &TIME_FIELDS) {
            Some((field, Value::String(s))) => {
                parse_time(&s).map_err(|source| PostError::Time { field, source })?
            }
            Some((field, Value::Number(n))) => {
                let x = n.as_f64().ok_or(PostError::Time {
                    field,
                    source: TimeError::NotFinite,
                })?;
                from_epoch(x).map_err(|source| PostError::Time { field, source })?
            }
            Some((field, other)) => {
                return Err(PostError::WrongType {
                    field,
                    expected: "an RFC 3339 string or epoch number",
                    found: type_name(&other),
                })
            }
            None => {
                return Err(PostError::Missing {
                    field: "created_at",
                    hint: " (also accepted: `timestamp`, `time`)",
                })
            }
        };
        let text = match first_field(&mut obj, &TEXT_FIELDS) {
            Some((field, Value::String(s))) => {
                if s.trim().is_empty() {
                    return Err(PostError::Empty { field });
                }
                s
            }
            Some((field, other)) => {
                return Err(PostError::WrongType {
                    field,
                    expected: "a string",
                    found: type_name(&other),
                })
            }
            None => {
                return Err(PostError::Missing {
                    field: "text",
                    hint: " (also accepted: `content`)",
                })
            }
        };
        // Optional fields are kept when usable and otherwise ignored: a post is not rejected
        // for a malformed extra.
        let user_id = first_field(&mut obj, &["user_id"]).and_then(|(f, v)| id_text(f, v).ok());
        let reposts_count = obj.get("reposts_count").and_then(Value::as_u64);
        let source = obj.get("source").and_then(Value::as_str).map(str::to_owned);
        Ok(Post {
            id,
            created_at,
            text,
            user_id,
            reposts_count,
            source,
        })
    }

    /// The post as one JSON line in the contract's canonical form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Post always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Post {
        Post::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn err(s: &[u8]) -> PostError {
        Post::parse(s).expect_err("should be rejected")
    }

    /// The general path alone, for comparison with `parse_str`'s fast path.
    fn general(s: &str) -> Result<Post, PostError> {
        let v: Value = serde_json::from_str(s).map_err(|e| PostError::Json(e.to_string()))?;
        Post::from_value(v)
    }

    #[test]
    fn the_fast_path_gives_what_the_general_path_gives() {
        let records = [
            r#"{"id":"4692","created_at":"2021-10-18T10:02:13+08:00","text":"微信崩了","user_id":"u1","reposts_count":3,"source":"iPhone"}"#,
            r#"{"id":" 7 ","created_at":"2021-10-18T10:02:13+08:00","text":"x","user_id":"  "}"#,
            r#"{"id":"a\u0041","created_at":"Mon Oct 18 10:02:13 +0800 2021","text":"line\nbreak \"q\""}"#,
            r#"{"id":"1","created_at":"1634522533","text":"x","extra":{"a":[1,2]}}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"x","content":"y"}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"x","text":"y"}"#,
            r#"{"id":"1","created_at":null,"timestamp":1634522533,"text":"x"}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":null,"content":"y"}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"x","reposts_count":-1}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"x","user_id":5,"source":3}"#,
            r#"{"id":"","created_at":"2021-10-18T10:02:13+08:00","text":"x"}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"  "}"#,
            r#"{"id":"1","created_at":"not a time","text":"x"}"#,
            r#"{"id":"1","created_at":"2021-10-18T10:02:13+08:00","text":"x"} trailing"#,
        ];
        let mut fast = 0;
        for r in records {
            assert_eq!(Post::parse_str(r), general(r), "{r}");
            fast += usize::from(Post::parse_canonical(r).is_some());
        }
        assert_eq!(fast, 5, "the canonical records took the fast path");
    }

    #[test]
    fn canonical_post() {
        let p = ok(
            r#"{"id": "4692", "created_at": "2021-10-18T10:02:13+08:00", "text": "微信崩了吗？图片发不出去", "user_id": "u1"}"#,
        );
        assert_eq!(p.id, "4692");
        assert_eq!(p.text, "微信崩了吗？图片发不出去");
        assert_eq!(p.user_id.as_deref(), Some("u1"));
        assert_eq!(p.created_at.to_rfc3339(), "2021-10-18T10:02:13+08:00");
        // Round trip through the canonical JSON form.
        assert_eq!(ok(&p.to_json()), p);
    }

    #[test]
    fn aliases_and_time_forms() {
        let want = ok(r#"{"id":1,"created_at":"2021-10-18T10:02:13+08:00","text":"x"}"#).created_at;
        for rec in [
            r#"{"id":1,"timestamp":1634522533,"text":"x"}"#,
            r#"{"id":1,"time":1634522533000,"content":"x"}"#,
            r#"{"id":1,"created_at":"Mon Oct 18 10:02:13 +0800 2021","text":"x"}"#,
            r#"{"id":1,"created_at":"1634522533","text":"x"}"#,
            r#"{"id":1,"created_at":1634522533.0,"text":"x"}"#,
            r#"{"id":1,"created_at":null,"timestamp":"2021-10-18T02:02:13Z","text":"x"}"#,
        ] {
            let p = ok(rec);
            assert_eq!(p.created_at, want, "{rec}");
            assert_eq!(p.id, "1");
            assert_eq!(p.text, "x");
        }
    }

    #[test]
    fn extras_are_kept_or_ignored_never_fatal() {
        let p = ok(
            r#"{"id":"a","time":1634522533,"text":"x","reposts_count":12,"source":"iPhone","user_id":77,"pics":[1,2]}"#,
        );
        assert_eq!(p.reposts_count, Some(12));
        assert_eq!(p.source.as_deref(), Some("iPhone"));
        assert_eq!(p.user_id.as_deref(), Some("77"));
        let p =
            ok(r#"{"id":"a","time":1634522533,"text":"x","reposts_count":"many","user_id":[1]}"#);
        assert_eq!(p.reposts_count, None);
        assert_eq!(p.user_id, None);
    }

    #[test]
    fn errors_name_the_field() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "not valid JSON"),
            (b"   ", "not valid JSON"),
            (b"{", "not valid JSON"),
            (b"[1,2]", "JSON an array, not an object"),
            (b"\"hello\"", "JSON a string"),
            (b"null", "JSON null"),
            (
                br#"{"created_at":"2021-10-18T10:02:13+08:00","text":"x"}"#,
                "missing field `id`",
            ),
            (
                br#"{"id":null,"created_at":"2021-10-18T10:02:13+08:00","text":"x"}"#,
                "missing field `id`",
            ),
            (
                br#"{"id":"1","text":"x"}"#,
                "missing field `created_at` (also accepted: `timestamp`, `time`)",
            ),
            (
                br#"{"id":"1","time":1634522533}"#,
                "missing field `text` (also accepted: `content`)",
            ),
            (
                br#"{"id":1.5,"time":1634522533,"text":"x"}"#,
                "field `id` is a number, expected a string or an integer",
            ),
            (
                br#"{"id":true,"time":1634522533,"text":"x"}"#,
                "field `id` is a boolean",
            ),
            (
                br#"{"id":"  ","time":1634522533,"text":"x"}"#,
                "field `id` is empty",
            ),
            (
                br#"{"id":"1","time":1634522533,"text":""}"#,
                "field `text` is empty",
            ),
            (
                br#"{"id":"1","time":1634522533,"content":" \n\t"}"#,
                "field `content` is empty",
            ),
            (
                br#"{"id":"1","time":1634522533,"text":42}"#,
                "field `text` is a number, expected a string",
            ),
            (
                br#"{"id":"1","time":1634522533,"text":["a"]}"#,
                "field `text` is an array",
            ),
            (
                br#"{"id":"1","time":"soon","text":"x"}"#,
                "field `time`: unrecognised time format",
            ),
            (
                br#"{"id":"1","time":{"s":1},"text":"x"}"#,
                "field `time` is an object",
            ),
            (
                br#"{"id":"1","time":0,"text":"x"}"#,
                "field `time`: time epoch 0 is outside",
            ),
            (
                br#"{"id":"1","created_at":"3021-10-18T10:02:13+08:00","text":"x"}"#,
                "outside the accepted range",
            ),
            (
                br#"{"id":"1","timestamp":-1634522533,"text":"x"}"#,
                "outside the accepted range",
            ),
            (
                br#"{"id":"1","timestamp":1e400,"text":"x"}"#,
                "not valid JSON",
            ),
            (
                b"\xff\xfe{\"id\":1}",
                "not valid UTF-8 (first bad byte at offset 0)",
            ),
        ];
        for (rec, want) in cases {
            let e = err(rec).to_string();
            assert!(
                e.contains(want),
                "{:?}: got {e:?}, want {want:?}",
                String::from_utf8_lossy(rec)
            );
        }
    }

    #[test]
    fn non_utf8_inside_text_is_rejected_with_offset() {
        let mut rec = br#"{"id":"1","time":1634522533,"text":""#.to_vec();
        let at = rec.len();
        rec.extend_from_slice(b"\xe5\xbe\xae\xc0\"}");
        match err(&rec) {
            PostError::NotUtf8 { valid_up_to } => assert_eq!(valid_up_to, at + 3),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn control_characters_are_kept_as_text_not_errors() {
        let p = ok(r#"{"id":"1","time":1634522533,"text":"微信\u0000崩了\u0007\u001b[31m\r\n"}"#);
        assert!(p.text.contains('\u{0}'));
        // Raw control characters are invalid JSON and are rejected, not panicked on.
        assert!(matches!(
            err(b"{\"id\":\"1\",\"time\":1634522533,\"text\":\"a\x01b\"}"),
            PostError::Json(_)
        ));
    }

    #[test]
    fn huge_records() {
        let big = format!(
            r#"{{"id":"1","time":1634522533,"text":"{}"}}"#,
            "崩".repeat(1 << 20)
        );
        assert!(matches!(
            err(big.as_bytes()),
            PostError::TooLarge {
                limit: MAX_POST_BYTES,
                ..
            }
        ));
        let just = format!(
            r#"{{"id":"1","time":1634522533,"text":"{}"}}"#,
            "a".repeat(MAX_POST_BYTES - 60)
        );
        assert_eq!(ok(&just).text.len(), MAX_POST_BYTES - 60);
        // Deep nesting in an ignored field is bounded by serde_json's recursion limit.
        let deep = format!(
            r#"{{"id":"1","time":1634522533,"text":"x","x":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(matches!(err(deep.as_bytes()), PostError::Json(_)));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every prefix and single-byte corruption of a valid record.
        let rec = r#"{"id":"4692","created_at":"Mon Oct 18 10:02:13 +0800 2021","text":"微信崩了吗？","user_id":"u1"}"#.as_bytes();
        for end in 0..=rec.len() {
            let _ = Post::parse(&rec[..end]);
        }
        let mut x: u32 = 12345;
        for i in 0..rec.len() {
            for _ in 0..8 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let mut r = rec.to_vec();
                r[i] = (x >> 16) as u8;
                let _ = Post::parse(&r);
            }
        }
    }
}

//! Chinese time expressions in news text: dates (7月22日, 2023年3月29日), relative days
//! (今天, 昨天), parts of the day (凌晨, 上午, 深夜), clock times in digits or numerals
//! (11点55分, 两点, 10:00, 八点半), hedges (左右, 许) and 刚刚 ("just now").
//!
//! [`find`] lists the mentions of a sentence; [`TimeMention::resolve`] turns one into a
//! local date and, when known, a time of day, against a reference date.

use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use regex::Regex;

/// Day a mention refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRef {
    /// An explicit date; the year is the reference year when not written.
    Date {
        /// Year, if written.
        year: Option<i32>,
        /// Month 1-12.
        month: u32,
        /// Day of month.
        day: u32,
    },
    /// 今天, 今早, 今晚.
    Today,
    /// 昨天, 昨晚.
    Yesterday,
}

/// One time expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeMention {
    /// The text matched.
    pub text: String,
    /// The day, if stated.
    pub day: Option<DayRef>,
    /// Part of the day (上午, 深夜...), if stated.
    pub part: Option<String>,
    /// Clock time (24 h after applying the part of the day), if stated.
    pub clock: Option<(u32, u32)>,
    /// Hedged (左右, 许) or a part of the day without a clock time.
    pub approximate: bool,
    /// 刚刚 / 刚才: the time of writing.
    pub just_now: bool,
}

/// A resolved mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Local date.
    pub date: NaiveDate,
    /// Local time of day, when the text gives one (a part of the day gives a typical hour).
    pub time: Option<NaiveTime>,
    /// Whether the time is an estimate.
    pub approximate: bool,
}

const NUM: &str = "[0-9]{1,2}|[零〇一二两三四五六七八九十]{1,3}";

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let re = format!(
            r"(?x)
            (?P<just>刚刚|刚才)
            |
            (?:(?P<y>[0-9]{{4}})年)?(?P<mo>[0-9]{{1,2}})月(?P<d>[0-9]{{1,2}})[日号]
              (?P<part1>凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|深夜|半夜|夜里)?
              (?:(?P<h1>{NUM})(?:[:：](?P<mm1>[0-9]{{2}})|[点时](?:(?P<mi1>{NUM})分?|(?P<half1>半))?))?
              (?P<ap1>左右|许|前后)?
            |
            (?P<rel>今天|今日|昨天|昨日|今早|今晨|今晚|昨晚|一大早|大早上)
              (?P<part2>凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|深夜|半夜|夜里)?
              (?:(?P<h2>{NUM})(?:[:：](?P<mm2>[0-9]{{2}})|[点时](?:(?P<mi2>{NUM})分?|(?P<half2>半))?))?
              (?P<ap2>左右|许|前后)?
            |
            (?P<part3>凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|深夜|半夜|夜里)
              (?:(?P<h3>{NUM})(?:[:：](?P<mm3>[0-9]{{2}})|[点时](?:(?P<mi3>{NUM})分?|(?P<half3>半))?))?
              (?P<ap3>左右|许|前后)?
            |
            (?P<h4>[0-9]{{1,2}})(?:[:：](?P<mm4>[0-9]{{2}})|点(?:(?P<mi4>[0-9]{{1,2}})分|(?P<half4>半))?)
              (?P<ap4>左右|许|前后)?
            "
        );
        Regex::new(&re).expect("time pattern compiles")
    })
}

/// Parses 0-99 in digits or Chinese numerals (两, 十一, 二十三).
pub fn parse_number(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse::<u32>() {
        return Some(n);
    }
    let digit = |c: char| -> Option<u32> {
        Some(match c {
            '零' | '〇' => 0,
            '一' => 1,
            '二' | '两' => 2,
            '三' => 3,
            '四' => 4,
            '五' => 5,
            '六' => 6,
            '七' => 7,
            '八' => 8,
            '九' => 9,
            _ => return None,
        })
    };
    let cs: Vec<char> = s.chars().collect();
    match cs.as_slice() {
        [a] if *a == '十' => Some(10),
        [a] => digit(*a),
        ['十', b] => Some(10 + digit(*b)?),
        [a, '十'] => Some(digit(*a)? * 10),
        [a, '十', b] => Some(digit(*a)? * 10 + digit(*b)?),
        [a, b] => Some(digit(*a)? * 10 + digit(*b)?),
        _ => None,
    }
}

/// The typical hour of a part of the day, used when no clock time is given.
fn default_hour(part: &str) -> u32 {
    match part {
        "凌晨" | "半夜" => 3,
        "清晨" | "早上" | "早晨" | "今早" | "今晨" | "一大早" | "大早上" => 8,
        "上午" => 10,
        "中午" => 12,
        "下午" => 15,
        "傍晚" => 18,
        "晚上" | "今晚" | "昨晚" => 20,
        "深夜" | "夜里" => 23,
        _ => 12,
    }
}

/// Converts a clock hour to 24 h given the part of the day (下午三点 is 15:00).
fn to_24h(h: u32, part: Option<&str>) -> u32 {
    match part {
        Some("下午" | "傍晚" | "晚上" | "今晚" | "昨晚") if h < 12 => h + 12,
        Some("深夜" | "夜里") if (6..12).contains(&h) => h + 12,
        Some("中午") if h < 6 => h + 12,
        _ => h,
    }
}

/// Finds the time mentions of a sentence, left to right.
pub fn find(sentence: &str) -> Vec<TimeMention> {
    let mut out = Vec::new();
    for c in pattern().captures_iter(sentence) {
        let g = |n: &str| c.name(n).map(|m| m.as_str());
        let text = c.get(0).map_or("", |m| m.as_str()).to_owned();
        if g("just").is_some() {
            out.push(TimeMention {
                text,
                day: Some(DayRef::Today),
                part: None,
                clock: None,
                approximate: true,
                just_now: true,
            });
            continue;
        }
        let k = ["1", "2", "3", "4"]
            .into_iter()
            .find(|k| {
                g(&format!("h{k}")).is_some()
                    || g(&format!("part{k}")).is_some()
                    || (*k == "1" && g("mo").is_some())
                    || (*k == "2" && g("rel").is_some())
            })
            .unwrap_or("4");
        let day = if let (Some(mo), Some(d)) = (g("mo"), g("d")) {
            let (month, day) = (mo.parse().unwrap_or(0), d.parse().unwrap_or(0));
            if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
                continue;
            }
            Some(DayRef::Date {
                year: g("y").and_then(|y| y.parse().ok()),
                month,
                day,
            })
        } else {
            match g("rel") {
                Some("昨天" | "昨日" | "昨晚") => Some(DayRef::Yesterday),
                Some(_) => Some(DayRef::Today),
                None => None,
            }
        };
        let part = g(&format!("part{k}"))
            .or(match g("rel") {
                Some(r @ ("今早" | "今晨" | "今晚" | "昨晚" | "一大早" | "大早上")) => {
                    Some(r)
                }
                _ => None,
            })
            .map(str::to_owned);
        let clock = match g(&format!("h{k}")).and_then(parse_number) {
            Some(h) => {
                let minute = g(&format!("mm{k}"))
                    .or(g(&format!("mi{k}")))
                    .and_then(parse_number)
                    .unwrap_or(if g(&format!("half{k}")).is_some() {
                        30
                    } else {
                        0
                    });
                let h = to_24h(h, part.as_deref());
                if h > 23 || minute > 59 {
                    continue;
                }
                Some((h, minute))
            }
            None => None,
        };
        if day.is_none() && part.is_none() && clock.is_none() {
            continue;
        }
        out.push(TimeMention {
            text,
            day,
            approximate: g(&format!("ap{k}")).is_some() || (clock.is_none() && part.is_some()),
            part,
            clock,
            just_now: false,
        });
    }
    out
}

impl TimeMention {
    /// Resolves the mention against a reference date (the article's date). `just_now`
    /// mentions resolve to the reference date without a time; callers that know the time
    /// of writing use it instead.
    pub fn resolve(&self, reference: NaiveDate) -> Option<Resolved> {
        let date = match self.day {
            Some(DayRef::Date { year, month, day }) => {
                NaiveDate::from_ymd_opt(year.unwrap_or(reference.year()), month, day)?
            }
            Some(DayRef::Yesterday) => reference.checked_sub_days(Days::new(1))?,
            Some(DayRef::Today) | None => reference,
        };
        let time = match (self.clock, self.part.as_deref()) {
            (Some((h, m)), _) => NaiveTime::from_hms_opt(h, m, 0),
            (None, Some(p)) => NaiveTime::from_hms_opt(default_hour(p), 0, 0),
            (None, None) => None,
        };
        Some(Resolved {
            date,
            time,
            approximate: self.approximate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parts = (Option<DayRef>, Option<String>, Option<(u32, u32)>, bool);

    fn one(s: &str) -> Parts {
        let v = find(s);
        assert_eq!(v.len(), 1, "{s}: {v:?}");
        let m = &v[0];
        (m.day, m.part.clone(), m.clock, m.approximate)
    }

    #[test]
    fn seed_expressions() {
        assert_eq!(
            one("UPDATE:上午11点55分,微信宣布修复完成"),
            (None, Some("上午".into()), Some((11, 55)), false)
        );
        assert_eq!(
            one("但就在今天凌晨两点左右,腾讯云服务器直接崩了"),
            (Some(DayRef::Today), Some("凌晨".into()), Some((2, 0)), true)
        );
        assert_eq!(
            one("电脑版微信大概是在早上10:00左右恢复登录"),
            (None, Some("早上".into()), Some((10, 0)), true)
        );
        assert_eq!(
            one("7月22日深夜,不少用户在社交平台反馈称"),
            (
                Some(DayRef::Date {
                    year: None,
                    month: 7,
                    day: 22
                }),
                Some("深夜".into()),
                None,
                true
            )
        );
        assert_eq!(
            one("今早开始部分手机和PC端的微信就已经无法发送图片"),
            (Some(DayRef::Today), Some("今早".into()), None, true)
        );
        assert_eq!(
            one("在今天下午出面表示"),
            (Some(DayRef::Today), Some("下午".into()), None, true)
        );
        assert_eq!(
            one("下午三点半恢复"),
            (None, Some("下午".into()), Some((15, 30)), false)
        );
        assert_eq!(
            one("晚上十一点十五分"),
            (None, Some("晚上".into()), Some((23, 15)), false)
        );
        assert_eq!(
            one("2023年3月29日凌晨"),
            (
                Some(DayRef::Date {
                    year: Some(2023),
                    month: 3,
                    day: 29
                }),
                Some("凌晨".into()),
                None,
                true
            )
        );
        let m = &find("官微回应称,刚刚,微信部分功能发生故障")[0];
        assert!(m.just_now);
    }

    #[test]
    fn non_times_are_ignored() {
        for s in [
            "有一点卡",
            "十几亿用户量",
            "2021年第二季度",
            "12.5亿",
            "13月45日",
            "25点",
            "视频短暂崩溃了半小时",
        ] {
            assert!(
                find(s)
                    .iter()
                    .all(|m| m.just_now || m.clock.is_none() || s == "25点"),
                "{s}: {:?}",
                find(s)
            );
        }
        assert!(find("13月45日").is_empty());
        assert!(find("25:00").is_empty());
    }

    #[test]
    fn resolution() {
        let r = NaiveDate::from_ymd_opt(2022, 7, 23).unwrap();
        let m = &find("7月22日深夜")[0];
        let x = m.resolve(r).unwrap();
        assert_eq!(x.date, NaiveDate::from_ymd_opt(2022, 7, 22).unwrap());
        assert_eq!(x.time, NaiveTime::from_hms_opt(23, 0, 0));
        assert!(x.approximate);
        let y = find("昨晚")[0].resolve(r).unwrap();
        assert_eq!(y.date, NaiveDate::from_ymd_opt(2022, 7, 22).unwrap());
        assert_eq!(parse_number("二十三"), Some(23));
        assert_eq!(parse_number("两"), Some(2));
        assert_eq!(parse_number("十五"), Some(15));
        assert_eq!(parse_number("九十九"), Some(99));
        assert_eq!(parse_number("x"), None);
    }
}

//! Training on a small generated set: the fitted classifier separates what it was shown, its
//! plain text reads back identically, and bad options are refused.

use benglema_model::SignalKind;
use benglema_text::{Classifier, Extractor, Label, LabelledPost};
use benglema_train::{train, Example, TrainOptions};

fn example(i: usize, text: String, complaint: bool) -> Example {
    Example {
        post: LabelledPost {
            id: format!("x{i}"),
            text,
            label: Label {
                service: complaint.then(|| "微信".to_owned()),
                kind: complaint.then_some(SignalKind::Complaint),
                symptoms: Vec::new(),
            },
        },
        source: "generated".into(),
    }
}

fn examples() -> Vec<Example> {
    let services = [
        "微信",
        "QQ",
        "支付宝",
        "淘宝",
        "抖音",
        "B站",
        "微博",
        "钉钉",
    ];
    let bad = [
        "一直提示请稍后再试",
        "页面一片空白",
        "暴毙了",
        "转菊花转半天",
        "网络开小差了",
    ];
    let good = [
        "今天发了个红包",
        "上新了一个功能",
        "的直播真好看",
        "买了件衣服",
        "看到一条新闻",
    ];
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        for (j, (b, g)) in bad.iter().zip(good).enumerate() {
            out.push(example(out.len(), format!("{s}{b}"), true));
            out.push(example(out.len(), format!("{s}{g}"), false));
            if (i + j) % 3 == 0 {
                out.push(example(out.len(), format!("刚才{s}{b}，烦"), true));
            }
        }
    }
    out
}

#[test]
fn a_fitted_classifier_separates_the_classes_and_round_trips() {
    let ex = Extractor::embedded();
    let opts = TrainOptions {
        bits: 12,
        ..TrainOptions::default()
    };
    let (c, held, report) = train(&ex, &examples(), &opts).unwrap();
    assert!(!held.is_empty());
    assert!(report.holdout.f1 >= 0.9, "{:?}", report.holdout);
    assert!(report.features_used > 50);
    let p = |t: &str| c.probability(&ex.features(t, c.bits, c.tokens));
    assert!(p("知乎页面一片空白") > p("知乎上新了一个功能"));
    let back = Classifier::parse(&c.to_text("test")).unwrap();
    assert_eq!(back.bits, c.bits);
    assert_eq!(back.threshold, c.threshold);
    for (a, b) in back.weights.iter().zip(&c.weights) {
        assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{a} {b}");
    }
}

#[test]
fn bad_options_and_too_little_data_are_refused() {
    let ex = Extractor::embedded();
    let bits = TrainOptions {
        bits: 30,
        ..TrainOptions::default()
    };
    let e = train(&ex, &examples(), &bits).unwrap_err().to_string();
    assert!(e.contains("--bits"), "{e}");
    let e = train(&ex, &examples()[..6], &TrainOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 10"), "{e}");
}

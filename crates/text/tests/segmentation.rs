//! Snapshot tests of segmentation: service names, complaint phrases and confounders must
//! stay whole tokens, or the extractor cannot read them. Update with `UPDATE_EXPECT=1`.

use benglema_text::Extractor;
use expect_test::{expect, Expect};

fn check(cases: &[&str], want: Expect) {
    let ex = Extractor::embedded();
    let got: Vec<String> = cases
        .iter()
        .map(|c| format!("{c} => {}", ex.tokens(c)))
        .collect();
    want.assert_eq(&got.join("\n"));
}

#[test]
fn services_and_complaints() {
    check(
        &[
            "微信崩了吗？图片发不出去",
            "#微信崩了# PC微信登录不上，二维码已失效",
            "V信又双叒叕崩了",
            "威信是不是挂了",
            "小破站502了",
            "支付包付款失败",
            "QQ邮箱炸了，头像也无法显示",
            "文件传输助手用不了",
            "企业微信打卡进不去",
            "12306抢票一直转圈",
        ],
        expect![[r#"
            微信崩了吗？图片发不出去 => 微信/崩了/吗/?/图片/发不出去
            #微信崩了# PC微信登录不上，二维码已失效 => 微信/崩了/ / /pc微信/登录不上/,/二维码已失效
            V信又双叒叕崩了 => v信/又双叒叕/崩了
            威信是不是挂了 => 威信/是不是/挂了
            小破站502了 => 小破站/502/了
            支付包付款失败 => 支付包/付款/失败
            QQ邮箱炸了，头像也无法显示 => qq邮箱/炸了/,/头像/也/无法/显示
            文件传输助手用不了 => 文件传输助手/用不了
            企业微信打卡进不去 => 企业微信/打卡/进不去
            12306抢票一直转圈 => 12306/抢/票/一直转圈"#]],
    );
}

#[test]
fn confounders_and_recoveries() {
    check(
        &[
            "考试挂了，心态崩了",
            "刚在支付宝挂号",
            "我的朋友圈炸了，全是点赞",
            "我手机卡了",
            "闲鱼挂了个二手相机",
            "微信恢复了，能发图片了",
            "微信没崩，是你网不好",
            "我也是 //@小明:微信又崩了",
        ],
        expect![[r#"
            考试挂了，心态崩了 => 考试挂了/,/心态崩了
            刚在支付宝挂号 => 刚/在/支付宝/挂号
            我的朋友圈炸了，全是点赞 => 我的/朋友圈炸了/,/全/是/点赞
            我手机卡了 => 我/手机卡/了
            闲鱼挂了个二手相机 => 闲鱼/挂了个/二手/相机
            微信恢复了，能发图片了 => 微信/恢复了/,/能/发图片/了
            微信没崩，是你网不好 => 微信/没崩/,/是/你/网/不好
            我也是 //@小明:微信又崩了 => 我/也是 | 微信/又崩/了"#]],
    );
}

/// Every multi-character model term is one token when cut alone: a user word or dictionary
/// entry that splits one would silently blind the extractor to it.
#[test]
fn every_model_term_stays_whole() {
    let ex = Extractor::embedded();
    let terms: Vec<&str> = ex
        .models()
        .all_terms()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let split: Vec<String> = terms
        .iter()
        .filter(|t| t.chars().count() >= 2)
        .filter_map(|t| {
            let toks = ex.cut(t);
            (toks.len() != 1).then(|| format!("{t} => {}", toks.join("/")))
        })
        .collect();
    assert!(split.is_empty(), "terms jieba splits: {split:#?}");
}

//! The services the simulator knows: canonical names (as in `models/services.toml`), how big
//! their user base is, what they are for, and the ways people write their names.

/// What a service is for; decides which everyday posts and which symptoms fit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Im,
    Work,
    Cloud,
    Video,
    Game,
    Payment,
    Shopping,
    Map,
    Food,
    News,
    Social,
    Search,
    Storage,
    Mobility,
    Music,
    Travel,
    Telecom,
}

/// One service of the gazetteer.
#[derive(Debug)]
pub(crate) struct Service {
    /// Canonical name, as the extractor reports it.
    pub name: &'static str,
    /// Relative size of the user base: peak complaints per minute of a daytime outage, and
    /// the weight of the service in everyday chatter.
    pub size: f64,
    pub kind: Kind,
    /// Unambiguous ways to write the name (aliases of `models/services.toml`, in mixed case
    /// and width where people write them so); the first is the usual one and is picked most.
    pub aliases: &'static [&'static str],
    /// Nicknames that are also ordinary words (企鹅): used only right before a cue.
    pub weak: &'static [&'static str],
}

use Kind::*;

/// Every service the extractor knows, with the simulator's view of it.
pub(crate) const SERVICES: &[Service] = &[
    Service {
        name: "微信",
        size: 100.0,
        kind: Im,
        aliases: &[
            "微信",
            "wx",
            "vx",
            "V信",
            "威信",
            "微x",
            "WeChat",
            "wechat",
            "薇信",
            "徽信",
            "维信",
            "手机微信",
            "电脑版微信",
            "微信电脑版",
            "PC微信",
            "weixin",
            "VX",
            "ｖｘ",
        ],
        weak: &["绿泡泡", "某信"],
    },
    Service {
        name: "QQ",
        size: 60.0,
        kind: Im,
        aliases: &["QQ", "qq", "扣扣", "手机QQ", "电脑QQ", "ＱＱ", "Qq"],
        weak: &["企鹅"],
    },
    Service {
        name: "企业微信",
        size: 10.0,
        kind: Work,
        aliases: &["企业微信", "企微", "企业wx", "企业vx", "WeCom"],
        weak: &[],
    },
    Service {
        name: "腾讯云",
        size: 6.0,
        kind: Cloud,
        aliases: &[
            "腾讯云",
            "腾讯云COS",
            "腾讯CDN",
            "TencentCloud",
            "腾讯云cos",
        ],
        weak: &[],
    },
    Service {
        name: "腾讯视频",
        size: 10.0,
        kind: Video,
        aliases: &["腾讯视频", "鹅视频"],
        weak: &[],
    },
    Service {
        name: "王者荣耀",
        size: 30.0,
        kind: Game,
        aliases: &["王者荣耀", "农药", "王者服务器"],
        weak: &["王者"],
    },
    Service {
        name: "支付宝",
        size: 50.0,
        kind: Payment,
        aliases: &["支付宝", "zfb", "支付包", "alipay", "Alipay", "付宝"],
        weak: &[],
    },
    Service {
        name: "淘宝",
        size: 40.0,
        kind: Shopping,
        aliases: &["淘宝", "某宝", "手淘", "淘宝app", "taobao", "tb", "淘宝APP"],
        weak: &[],
    },
    Service {
        name: "闲鱼",
        size: 8.0,
        kind: Shopping,
        aliases: &["闲鱼", "闲鱼app", "xianyu"],
        weak: &[],
    },
    Service {
        name: "阿里云",
        size: 6.0,
        kind: Cloud,
        aliases: &["阿里云", "aliyun", "阿里云OSS", "阿里云服务器"],
        weak: &[],
    },
    Service {
        name: "钉钉",
        size: 15.0,
        kind: Work,
        aliases: &["钉钉", "dingtalk", "叮叮", "丁丁"],
        weak: &[],
    },
    Service {
        name: "高德地图",
        size: 10.0,
        kind: Map,
        aliases: &["高德地图", "高德", "高德导航", "amap"],
        weak: &[],
    },
    Service {
        name: "饿了么",
        size: 12.0,
        kind: Food,
        aliases: &["饿了么", "饿了么app", "eleme"],
        weak: &[],
    },
    Service {
        name: "抖音",
        size: 50.0,
        kind: Video,
        aliases: &[
            "抖音",
            "dy",
            "抖y",
            "抖音极速版",
            "douyin",
            "抖音直播",
            "DY",
        ],
        weak: &[],
    },
    Service {
        name: "今日头条",
        size: 8.0,
        kind: News,
        aliases: &["今日头条", "头条app", "toutiao"],
        weak: &["头条"],
    },
    Service {
        name: "飞书",
        size: 8.0,
        kind: Work,
        aliases: &["飞书", "lark", "Lark", "feishu"],
        weak: &[],
    },
    Service {
        name: "微博",
        size: 45.0,
        kind: Social,
        aliases: &[
            "微博",
            "wb",
            "围脖",
            "新浪微博",
            "weibo",
            "微博国际版",
            "WB",
        ],
        weak: &[],
    },
    Service {
        name: "B站",
        size: 35.0,
        kind: Video,
        aliases: &[
            "B站",
            "b站",
            "小破站",
            "哔哩哔哩",
            "bilibili",
            "破站",
            "blbl",
            "哔站",
        ],
        weak: &[],
    },
    Service {
        name: "知乎",
        size: 12.0,
        kind: Social,
        aliases: &["知乎", "zhihu", "知乎app"],
        weak: &[],
    },
    Service {
        name: "百度",
        size: 20.0,
        kind: Search,
        aliases: &["百度", "度娘", "手机百度", "百度app", "baidu"],
        weak: &[],
    },
    Service {
        name: "百度网盘",
        size: 8.0,
        kind: Storage,
        aliases: &["百度网盘", "百度云", "度盘", "百度云盘"],
        weak: &[],
    },
    Service {
        name: "京东",
        size: 25.0,
        kind: Shopping,
        aliases: &["京东", "狗东", "京东app", "jd", "JD", "京东商城"],
        weak: &[],
    },
    Service {
        name: "拼多多",
        size: 25.0,
        kind: Shopping,
        aliases: &["拼多多", "pdd", "拼夕夕", "PDD"],
        weak: &["多多"],
    },
    Service {
        name: "美团",
        size: 25.0,
        kind: Food,
        aliases: &["美团", "美团外卖", "美团app", "meituan"],
        weak: &[],
    },
    Service {
        name: "滴滴",
        size: 15.0,
        kind: Mobility,
        aliases: &["滴滴", "滴滴打车", "滴滴出行", "didi", "滴滴app"],
        weak: &[],
    },
    Service {
        name: "网易云音乐",
        size: 15.0,
        kind: Music,
        aliases: &["网易云音乐", "网易云", "网抑云", "云村"],
        weak: &[],
    },
    Service {
        name: "12306",
        size: 20.0,
        kind: Travel,
        aliases: &["12306", "铁路12306", "12306app", "12306网站"],
        weak: &[],
    },
    Service {
        name: "唯品会",
        size: 5.0,
        kind: Shopping,
        aliases: &["唯品会", "vipshop", "唯品"],
        weak: &[],
    },
    Service {
        name: "快手",
        size: 25.0,
        kind: Video,
        aliases: &["快手", "快手极速版", "kuaishou"],
        weak: &[],
    },
    Service {
        name: "爱奇艺",
        size: 10.0,
        kind: Video,
        aliases: &["爱奇艺", "奇艺", "iqiyi", "爱奇艺app"],
        weak: &[],
    },
    Service {
        name: "优酷",
        size: 6.0,
        kind: Video,
        aliases: &["优酷", "优酷视频", "youku"],
        weak: &[],
    },
    Service {
        name: "QQ音乐",
        size: 8.0,
        kind: Music,
        aliases: &["QQ音乐", "q音", "qq音乐"],
        weak: &[],
    },
    Service {
        name: "携程",
        size: 6.0,
        kind: Travel,
        aliases: &["携程", "携程app", "携程旅行"],
        weak: &[],
    },
    Service {
        name: "原神",
        size: 20.0,
        kind: Game,
        aliases: &["原神", "原神服务器", "genshin"],
        weak: &[],
    },
    Service {
        name: "云闪付",
        size: 5.0,
        kind: Payment,
        aliases: &["云闪付", "银联云闪付"],
        weak: &[],
    },
    Service {
        name: "中国移动",
        size: 10.0,
        kind: Telecom,
        aliases: &["中国移动", "移动网络", "10086", "移动宽带", "中国移动app"],
        weak: &[],
    },
];

/// Services that `models/services.toml` deliberately does not list: an incident naming one
/// tests new-service discovery (the extractor must read the name from the text). They never
/// appear in everyday chatter.
pub(crate) const UNLISTED: &[Service] = &[Service {
    name: "小蓝书",
    size: 30.0,
    kind: Social,
    aliases: &["小蓝书"],
    weak: &[],
}];

/// The service of a canonical name, if the simulator knows it (listed or not).
pub(crate) fn lookup(name: &str) -> Option<&'static Service> {
    SERVICES.iter().chain(UNLISTED).find(|s| s.name == name)
}

/// Sum of all sizes, to draw a service in proportion to its size.
pub(crate) fn total_size() -> f64 {
    SERVICES.iter().map(|s| s.size).sum()
}

/// Draws a service in proportion to its size from a uniform number in `[0, 1)`.
pub(crate) fn by_size(u: f64) -> &'static Service {
    let mut x = u * total_size();
    for s in SERVICES {
        if x < s.size {
            return s;
        }
        x -= s.size;
    }
    &SERVICES[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_service_has_an_alias() {
        for (i, s) in SERVICES.iter().enumerate() {
            assert!(!s.aliases.is_empty(), "{}", s.name);
            assert!(s.size > 0.0, "{}", s.name);
            assert!(
                SERVICES[..i].iter().all(|t| t.name != s.name),
                "{} twice",
                s.name
            );
        }
        assert_eq!(lookup("微信").map(|s| s.kind), Some(Kind::Im));
        assert!(lookup("不存在").is_none());
        assert_eq!(by_size(0.0).name, "微信");
        assert_eq!(by_size(0.999_999).name, SERVICES.last().unwrap().name);
    }
}

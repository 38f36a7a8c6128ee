//! Fragment pools and the composers that build post texts from them.
//!
//! Every text is put together from several independent pools (openers, service aliases,
//! fillers, cues, symptom phrases, tails, hashtags, repost chains, script and case changes),
//! so that no template dominates a stream. The pools were written for the simulator; they
//! share a few everyday phrases with the hand-written corpora of `data/posts/` but copy none
//! of them in bulk.
//!
//! The everyday pools (background chatter, confounders, bursts) deliberately avoid the cue
//! vocabulary of `models/cues.toml` except in the senses the extractor knows to be harmless
//! (心态崩了, 考试挂了, 挂号, 朋友圈炸了, 手机卡了, 京东卡 ...).

use rand::Rng;

use crate::services::{self, Kind, Service};

/// Picks one element of a non-empty pool.
pub(crate) fn pick<'a, R: Rng>(rng: &mut R, pool: &[&'a str]) -> &'a str {
    pool[rng.random_range(0..pool.len())]
}

fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A service as the composers see it: a known one of the gazetteer, or an unknown canonical
/// name that is used as its own only alias.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: String,
    pub aliases: Vec<String>,
    pub weak: Vec<String>,
    pub size: f64,
    pub kind: Kind,
}

impl Target {
    pub(crate) fn of(name: &str) -> Target {
        match services::lookup(name) {
            Some(s) => Target::from_service(s),
            None => Target {
                name: name.to_owned(),
                aliases: vec![name.to_owned()],
                weak: Vec::new(),
                size: 5.0,
                kind: Kind::Shopping,
            },
        }
    }

    pub(crate) fn from_service(s: &Service) -> Target {
        Target {
            name: s.name.clone(),
            aliases: s.aliases.clone(),
            weak: s.weak.clone(),
            size: s.size,
            kind: s.kind,
        }
    }

    /// The usual name half of the time, otherwise any alias (slang, typos, English).
    fn alias<R: Rng>(&self, rng: &mut R) -> &str {
        if chance(rng, 0.5) {
            &self.aliases[0]
        } else {
            &self.aliases[rng.random_range(0..self.aliases.len())]
        }
    }

    /// The name as everyday posts write it: mostly the usual name.
    fn plain<R: Rng>(&self, rng: &mut R) -> &str {
        if chance(rng, 0.85) || self.aliases.len() < 2 {
            &self.aliases[0]
        } else {
            &self.aliases[rng.random_range(1..self.aliases.len().min(3))]
        }
    }

    fn parts(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Im | Kind::Work => &[
                "电脑版",
                "PC端",
                "手机版",
                "客户端",
                "网页版",
                "安卓版",
                "ios版",
                "pc版",
            ],
            Kind::Cloud => &["控制台", "服务器", "后台", "接口", "官网"],
            Kind::Game => &["服务器", "客户端"],
            _ => &["app", "APP", "客户端", "网页版", "官网", "服务器"],
        }
    }
}

// ---------------------------------------------------------------------------------------
// Complaints
// ---------------------------------------------------------------------------------------

/// Where a complaint falls in its outage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The first minutes and the plateau.
    Down,
    /// Long into the outage or after its labelled end: "still broken" wording is likelier.
    Lingering,
    /// One user's trouble, outside any outage: always names the service.
    Sporadic,
}

const OPENERS: &[&str] = &[
    "救命",
    "啊啊啊",
    "卧槽",
    "我去",
    "天呐",
    "emmm",
    "家人们",
    "完了",
    "服了",
    "无语",
    "离谱",
    "谁懂啊",
    "绝了",
    "OMG",
    "急",
    "在线等",
    "好家伙",
    "救大命",
    "不会吧",
    "我靠",
    "妈耶",
    "啊这",
    "WTF",
    "真服了",
    "好烦",
    "裂开",
    "天塌了",
    "救救",
    "哎",
    "？？",
    "啊啊啊啊啊",
    "搞什么",
    "我人傻了",
    "刚刚",
    "关键时刻",
    "好巧不巧",
    "笑不出来",
    "真的会谢",
    "我真的栓Q",
    "破防",
    "头大",
];

const OPENER_SEPS: &[&str] = &["，", "！", " ", "，", "！！", "。", "…", "～", ","];

/// Words between a service and a cue that the extractor walks over.
const FILLERS: &[&str] = &[
    "",
    "",
    "",
    "",
    "",
    "又",
    "又",
    "是不是",
    "好像",
    "怎么又",
    "突然",
    "直接",
    "彻底",
    "也",
    "真的",
    "又双叒叕",
    "今天",
    "刚刚",
    "貌似",
    "估计",
    "集体",
    "又又又",
    "竟然",
    "居然",
    "全部",
    "再次",
    "现在",
];

/// "It is down" wording, written directly after the service and a filler.
const DOWN: &[&str] = &[
    "崩了",
    "崩了",
    "崩了",
    "挂了",
    "挂了",
    "崩啦",
    "炸了",
    "宕机了",
    "当机了",
    "挂掉了",
    "崩溃了",
    "抽风了",
    "罢工了",
    "瘫痪了",
    "歇菜了",
    "趴窝了",
    "寄了",
    "down了",
    "出问题了",
    "出故障了",
    "凉了",
    "G了",
    "扑街了",
    "炸服了",
    "不行了",
    "蹦了",
    "崩惹",
    "原地去世了",
    "翻车了",
    "出bug了",
    "502了",
    "不能用了",
    "没法用了",
    "抽风",
    "崩掉了",
    "挂啦",
    "又崩",
    "炸啦",
    "崩",
];

/// Generic failure phrases, for services whose labelled outage names no symptom.
const GENERIC: &[&str] = &[
    "打不开",
    "打不开了",
    "进不去",
    "一直转圈",
    "一直转圈圈",
    "闪退",
    "一打开就闪退",
    "加载不出来",
    "加载失败",
    "刷不出来",
    "白屏",
    "黑屏了",
    "完全用不了",
    "随便点什么都没反应",
    "一直显示网络错误",
    "提示系统繁忙",
    "提示服务器繁忙",
    "显示网络异常",
    "页面502",
    "返回503",
    "一直报错",
    "连不上",
    "提交订单一直失败",
    "付款失败",
    "登不上",
    "登录失败",
    "怎么点都点不开",
    "页面一片空白，刷新也加载不出来",
];

/// Symptom phrases by taxonomy category (`models/symptoms.toml`), written to follow a
/// service name directly (微信 + 图片发不出去).
fn symptom_pool(category: &str) -> &'static [&'static str] {
    match category {
        "登录" => &[
            "登不上",
            "登不上去",
            "登录不上",
            "登录失败",
            "一直登录失败",
            "扫码登录没反应",
            "扫码登录一直转圈",
            "二维码加载不出来",
            "提示账号异常，登不上",
            "验证码收不到",
            "被踢下线了",
            "掉线了",
            "一直掉线",
            "登陆不上",
            "登录不了",
            "重新登录也登不进去",
            "退出登录以后就登不上了",
            "上不了号",
            "在电脑上登录一直失败",
            "二维码已失效，刷新也没用",
        ],
        "消息" => &[
            "消息发不出去",
            "消息一直转圈发不出去",
            "消息一直显示红色感叹号",
            "收不到消息",
            "的群消息刷不出来",
            "发送失败",
            "消息发送失败",
            "发不了消息",
            "私信发不了",
            "消息延迟严重",
            "聊天记录加载不出来",
            "发出去的消息全是感叹号",
            "连文字都发不出去",
            "信息发不出去",
            "回复不了消息",
            "消息一直在转圈圈",
            "收消息延迟好几分钟",
        ],
        "图片/文件" => &[
            "图片发不出去",
            "图片加载不出来",
            "图片一直转圈",
            "图片发送失败",
            "表情包发不了",
            "的大图点不开",
            "发送原图失败",
            "图裂了",
            "文件传输助手打不开",
            "文件发不出去",
            "文件下载失败",
            "好友头像都加载不出来",
            "图片全是裂的，加载不出来",
            "截图发不出去",
            "照片一直发送失败",
            "缩略图都刷不出来",
            "发文件一直转圈",
            "表情包加载失败",
            "附件打不开",
        ],
        "支付" => &[
            "付款码刷不出来",
            "转账一直失败",
            "红包发不出去",
            "付款失败",
            "收款码扫了没反应",
            "零钱提现失败",
            "扫码付不了款",
            "付款一直转圈",
            "付款一直失败",
            "红包点不开",
            "付款码打不开",
            "转账转不出去",
            "付不了钱",
            "钱包打不开",
            "买单的时候付款码加载不出来",
        ],
        "通话" => &[
            "语音通话打不通",
            "打视频通话一直连接中",
            "打语音连不上",
            "打视频电话接不通",
            "语音消息发不出去",
            "语音电话一直断线",
            "语音视频通话连接失败",
            "语音打不出去",
            "语音通话一直掉线",
        ],
        "朋友圈/动态" => &[
            "朋友圈刷不出来",
            "朋友圈发不出去",
            "动态加载失败",
            "评论不了",
            "给人点赞没反应",
            "朋友圈一直转圈",
            "朋友圈打不开",
            "动态刷不出来",
            "首页刷不出来",
            "评论区加载不出来",
            "的视频号打不开",
        ],
        "联系人" => &[
            "通讯录加载不出来",
            "好友列表刷不出来",
            "加好友一直失败",
            "群聊打不开",
            "通讯录一片空白，加载不出来",
            "联系人列表打不开",
            "好友申请发不出去",
        ],
        "小程序" => &[
            "的小程序打不开",
            "健康码刷不出来",
            "乘车码加载失败",
            "公众号文章点不开",
            "的小程序一直转圈",
            "的小程序全打不开",
            "乘车码打不开，地铁口排队",
            "公众号加载不出来",
        ],
        "闪退/打不开" => &[
            "一打开就闪退",
            "打不开",
            "白屏",
            "黑屏",
            "一点开就卡死",
            "启动不了",
            "老是闪退",
            "闪退了",
            "打不开了",
            "页面点不开",
            "进不去",
            "无响应，点了没反应",
        ],
        "网络/服务器" => &[
            "一直显示网络错误",
            "提示服务器繁忙",
            "一直提示网络异常",
            "502",
            "显示502",
            "一直504",
            "一直连接失败",
            "一直加载",
            "请求超时，刷不出来",
            "显示系统错误",
            "一直报错",
            "连不上服务器",
            "服务器错误",
            "无法连接服务器",
            "加载失败",
            "一直显示连接中",
        ],
        "视频/直播" => &[
            "播放视频失败",
            "直播间进不去",
            "刷视频加载不出来",
            "看视频一直转圈，播不了",
            "直播黑屏",
            "播放失败",
            "放视频播不了",
            "弹幕刷不出来",
        ],
        "邮箱" => &[
            "邮箱登不上",
            "邮件发不出去",
            "收不到邮件",
            "邮箱打不开",
            "邮箱一直加载",
            "发邮件一直失败",
            "附件传不上去，邮件发送失败",
        ],
        _ => GENERIC,
    }
}

/// Symptom categories that fit a service kind, for complaints with no labelled symptom.
fn kind_symptoms(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Im => &["登录", "消息", "图片/文件", "通话", "闪退/打不开"],
        Kind::Work => &["登录", "消息", "闪退/打不开", "网络/服务器"],
        Kind::Cloud => &["网络/服务器", "闪退/打不开", "登录"],
        Kind::Video => &["视频/直播", "闪退/打不开", "网络/服务器"],
        Kind::Game => &["登录", "网络/服务器"],
        Kind::Payment => &["支付", "闪退/打不开", "登录"],
        Kind::Social => &["朋友圈/动态", "闪退/打不开", "网络/服务器", "图片/文件"],
        _ => &["", "闪退/打不开", "网络/服务器"],
    }
}

/// "Still broken" wording for long outages, after a service name.
const STILL: &[&str] = &[
    "还没恢复",
    "现在还没恢复",
    "还是登不上",
    "还是打不开",
    "还是发不出去",
    "还是用不了",
    "都一个小时了还在转圈",
    "好了吗",
    "好了没？",
    "现在好了没？",
    "还在崩",
    "还崩着呢",
    "还是没法用",
    "还是加载不出来",
];

const TAILS: &[&str] = &[
    "😭",
    "😭😭😭",
    "🙃",
    "😅",
    "😤",
    "🤯",
    "😡",
    "💔",
    "[允悲]",
    "[哭哭]",
    "[裂开]",
    "[doge]",
    "[微笑]",
    "？？？",
    "！！！",
    "...",
    "有人一样吗",
    "有没有人一样",
    "就我一个吗",
    "只有我吗",
    "是只有我这样吗",
    "急急急",
    "老板在催了",
    "客户等着呢",
    "wtf",
    "help",
    "搞什么啊",
    "什么情况",
    "啥情况",
    "求求了",
    "麻了",
    "心累",
    "要命",
    "服务器是纸糊的吗",
    "程序员要加班了",
    "运维小哥又要背锅了",
    "鹅厂醒醒",
    "还以为是我网的锅",
    "切了流量也一样",
    "重装了也没用",
    "我还以为我被封号了",
    "打工人的命也是命",
    "工作全耽误了",
    "今天还能好吗",
    "坐标北京",
    "坐标上海",
    "坐标广州",
    "坐标深圳",
    "坐标成都",
    "坐标杭州",
    "坐标武汉",
    "坐标西安",
];

/// Tails with a number in them, for more variety.
const COUNT_TAILS: &[&str] = &[
    "重启了{n}次",
    "等了{n}分钟了",
    "已经{n}分钟了",
    "重装了{n}遍",
    "刷新了{n}次",
    "试了{n}回",
];

const HASHTAG_DOWN: &[&str] = &["崩了", "又崩了", "挂了", "崩了吗", "宕机", "崩了是怎么回事"];

/// What the poster was doing: (text, kinds of service it fits (empty: any), first hour,
/// last hour); the hours wrap past midnight when the first is after the last.
type Timed = (&'static str, &'static [Kind], u32, u32);

const IM: &[Kind] = &[Kind::Im, Kind::Work];
const PAY: &[Kind] = &[Kind::Im, Kind::Payment];
const ANY: &[Kind] = &[];

const SITUATIONS: &[Timed] = &[
    ("正在给客户发报价单", IM, 9, 19),
    ("正要交作业", IM, 8, 23),
    ("跟对象吵架吵到一半", IM, 0, 23),
    ("开着会呢", IM, 9, 18),
    ("领导刚@我", IM, 8, 21),
    ("正在传合同", IM, 9, 19),
    ("和家里人视频到一半", IM, 18, 23),
    ("要发周报了", IM, 15, 20),
    ("晚上加班赶方案", IM, 19, 1),
    ("上课签到", IM, 8, 16),
    ("准备打卡下班", IM, 17, 20),
    ("正准备付款", PAY, 7, 23),
    ("排队买单", PAY, 7, 22),
    ("在地铁口刷码", PAY, 6, 22),
    ("在超市结账", PAY, 8, 22),
    ("刚要抢红包", PAY, 0, 23),
    ("打车到一半", &[Kind::Mobility, Kind::Map], 0, 23),
    ("游戏打到一半", &[Kind::Game], 0, 23),
    (
        "正要下单",
        &[Kind::Shopping, Kind::Food, Kind::Travel],
        0,
        23,
    ),
    ("追剧追到一半", &[Kind::Video, Kind::Music], 0, 23),
    ("刚到公司", ANY, 8, 10),
    ("凌晨睡不着刷手机", ANY, 0, 4),
    ("午休的时候", ANY, 12, 13),
    ("下班路上", ANY, 17, 20),
    ("睡前想看一眼", ANY, 22, 1),
    ("刚起床", ANY, 6, 10),
];

/// Openers that fit only some hours (all services).
const TIMED_OPENERS: &[Timed] = &[
    ("一大早", ANY, 5, 9),
    ("上班第一件事", ANY, 8, 10),
    ("大半夜的", ANY, 23, 4),
    ("正开会呢", ANY, 9, 17),
    ("午休被吵醒", ANY, 12, 14),
    ("深夜", ANY, 23, 3),
    ("早上好", ANY, 6, 9),
];

/// One of the timed entries that fit a service kind and an hour, if any.
fn timed<R: Rng>(rng: &mut R, pool: &[Timed], kind: Kind, hour: u32) -> Option<&'static str> {
    let fits = |t: &&Timed| {
        let (_, kinds, h0, h1) = **t;
        let in_hours = if h0 <= h1 {
            (h0..=h1).contains(&hour)
        } else {
            hour >= h0 || hour <= h1
        };
        in_hours && (kinds.is_empty() || kinds.contains(&kind))
    };
    let n = pool.iter().filter(fits).count();
    if n == 0 {
        return None;
    }
    let i = rng.random_range(0..n);
    pool.iter().filter(fits).nth(i).map(|t| t.0)
}

const RESULT_LINKS: &[&str] = &["", "结果", "突然", "然后", "发现", "一看"];

const JOKES: &[&str] = &[
    "终于有理由不回消息了",
    "全国打工人放假一天",
    "我还以为我被全世界拉黑了",
    "老板找不到我了，爽",
    "第一反应是去微博看看",
    "还以为是我手机坏了",
    "重启三遍手机才想起来上网查",
    "程序员今晚别想睡了",
    "这下真的失联了",
    "摸鱼被迫中止",
    "我妈以为我把她删了",
    "运维：我的年终奖",
    "建议直接放假",
    "靠吼吧",
    "回到写信的年代",
    "大家都安静了",
    "还好我没在谈恋爱",
    "对象以为我不理她",
];

/// Repost chains: the reposter's own words before `//@nick:`.
const REPOST_OWN: &[&str] = &[
    "我也是",
    "同",
    "+1",
    "一样",
    "我也",
    "同款",
    "真的",
    "确实",
    "原来不止我一个",
    "转发微博",
    "哈哈哈哈同",
    "我也是😭",
    "俺也一样",
    "同上",
    "我这也是",
    "本来以为是我网不好",
    "坐标南京，同",
    "坐标重庆，一样",
    "笑死",
    "救命",
    "我也遇到了",
];

/// Own words of a repost that complain without naming the service (我也是，发不出去):
/// the extractor lends them the quoted service.
const REPOST_OWN_CUE: &[&str] = &[
    "我也是，发不出去",
    "同，登不上",
    "我这也一直转圈",
    "一样，打不开",
    "我也登录失败",
    "+1，加载不出来",
    "同款闪退",
    "我也是，一直显示网络错误",
    "我这边也发不出去",
    "我也是图片发不出去",
];

const NICK_HEAD: &[&str] = &[
    "小鱼",
    "阿强",
    "momo",
    "一只猫",
    "吃瓜群众",
    "打工人",
    "今天也要加油",
    "困困兔",
    "大橘",
    "柠檬",
    "不吃香菜",
    "早睡早起",
    "小王",
    "奶茶续命",
    "熬夜冠军",
    "摸鱼达人",
    "西瓜",
    "橙子",
    "Lucky",
    "Coco",
    "阿飞",
    "晴天",
    "路人甲",
    "芝士",
    "番茄",
    "饭团",
];
const NICK_TAIL: &[&str] = &[
    "",
    "",
    "",
    "_",
    "酱",
    "呀",
    "同学",
    "本人",
    "2023",
    "99",
    "_cn",
    "不加班",
    "要暴富",
];

fn nick<R: Rng>(rng: &mut R) -> String {
    let mut s = format!("{}{}", pick(rng, NICK_HEAD), pick(rng, NICK_TAIL));
    if chance(rng, 0.3) {
        s.push_str(&rng.random_range(1..1000).to_string());
    }
    s
}

/// English and code-switching forms: `{a}` is an alias.
const ENGLISH: &[&str] = &[
    "{a} down了？",
    "{a} is down?",
    "{a}又crash了",
    "{a} 502了",
    "{a}挂了 wtf",
    "{a} down了 what happened",
    "{a}崩了 so annoying",
    "is {a} down? 一直转圈",
    "{a} outage了吗",
    "{a}登不上 help",
    "omg {a}又崩了",
    "{a} not working，打不开",
];

/// A few Simplified→Traditional character swaps; the extractor folds them back with fast2s.
const TRAD: &[(char, char)] = &[
    ('发', '發'),
    ('图', '圖'),
    ('录', '錄'),
    ('无', '無'),
    ('转', '轉'),
    ('闪', '閃'),
    ('进', '進'),
    ('开', '開'),
    ('没', '沒'),
    ('问', '問'),
    ('题', '題'),
    ('连', '連'),
    ('网', '網'),
    ('络', '絡'),
    ('错', '錯'),
    ('误', '誤'),
    ('载', '載'),
    ('机', '機'),
    ('当', '當'),
    ('挂', '掛'),
    ('吗', '嗎'),
    ('这', '這'),
    ('么', '麼'),
    ('个', '個'),
    ('们', '們'),
    ('说', '說'),
    ('话', '話'),
    ('语', '語'),
    ('视', '視'),
    ('频', '頻'),
    ('复', '復'),
    ('还', '還'),
    ('对', '對'),
    ('为', '為'),
    ('显', '顯'),
    ('务', '務'),
    ('邮', '郵'),
    ('动', '動'),
    ('态', '態'),
    ('级', '級'),
    ('钱', '錢'),
    ('红', '紅'),
    ('码', '碼'),
    ('页', '頁'),
    ('讯', '訊'),
    ('败', '敗'),
    ('觉', '覺'),
    ('实', '實'),
];

fn traditional(s: &str) -> String {
    s.chars()
        .map(|c| TRAD.iter().find(|(a, _)| *a == c).map_or(c, |&(_, b)| b))
        .collect()
}

fn fill_n<R: Rng>(rng: &mut R, s: &str) -> String {
    if s.contains("{n}") {
        s.replace("{n}", &rng.random_range(2..60).to_string())
    } else {
        s.to_owned()
    }
}

/// A symptom phrase written right after the service name (微信 + 的小程序打不开).
fn symptom_phrase<R: Rng>(rng: &mut R, target: &Target, symptoms: &[String]) -> &'static str {
    let category: &str = if symptoms.is_empty() {
        pick(rng, kind_symptoms(target.kind))
    } else {
        &symptoms[rng.random_range(0..symptoms.len())]
    };
    pick(rng, symptom_pool(category))
}

/// A symptom phrase that starts a clause of its own (no leading 的).
fn loose_symptom<R: Rng>(rng: &mut R, target: &Target, symptoms: &[String]) -> &'static str {
    let p = symptom_phrase(rng, target, symptoms);
    p.strip_prefix('的').unwrap_or(p)
}

fn tail<R: Rng>(rng: &mut R, target: &Target, out: &mut String) {
    let roll: f64 = rng.random();
    if roll < 0.35 {
        return;
    }
    if roll < 0.45 {
        out.push_str(pick(rng, &["，", " ", "！"]));
        let t = pick(rng, COUNT_TAILS);
        out.push_str(&fill_n(rng, t));
    } else if roll < 0.55 {
        out.push(' ');
        out.push('#');
        out.push_str(&target.name);
        out.push_str(pick(rng, HASHTAG_DOWN));
        out.push('#');
    } else {
        let t = pick(rng, TAILS);
        if t.starts_with(char::is_alphanumeric) || chance(rng, 0.3) {
            out.push_str(pick(rng, &["，", " ", "。", "！", "，"]));
        }
        out.push_str(t);
    }
    if chance(rng, 0.2) {
        out.push_str(pick(rng, &["😭", "🙃", "😅", "[允悲]", "!!", "？", "…"]));
    }
}

/// Opener and separator, or nothing.
fn opener<R: Rng>(rng: &mut R, kind: Kind, hour: u32, out: &mut String) {
    if chance(rng, 0.35) {
        let timed = if chance(rng, 0.15) {
            timed(rng, TIMED_OPENERS, kind, hour)
        } else {
            None
        };
        out.push_str(timed.unwrap_or_else(|| pick(rng, OPENERS)));
        out.push_str(pick(rng, OPENER_SEPS));
    }
}

fn sep<R: Rng>(rng: &mut R) -> &'static str {
    pick(rng, &["，", "，", "，", "！", "。", " ", "？", "…", ","])
}

/// The core of a complaint that names the service: one of several shapes.
fn complaint_core<R: Rng>(
    rng: &mut R,
    target: &Target,
    symptoms: &[String],
    stage: Stage,
    hour: u32,
) -> String {
    let mut s = String::new();
    let a = target.alias(rng).to_owned();
    let roll: f64 = rng.random();
    if stage == Stage::Lingering && chance(rng, 0.3) {
        // 微信到现在还没恢复
        s.push_str(&a);
        s.push_str(pick(rng, STILL));
        if chance(rng, 0.4) {
            s.push_str(pick(rng, &["，", "！", "。"]));
            s.push_str(loose_symptom(rng, target, symptoms));
        }
        return s;
    }
    if roll < 0.28 {
        // 微信又崩了，图片发不出去
        let weak = !target.weak.is_empty() && chance(rng, 0.12);
        if weak {
            s.push_str(&target.weak[rng.random_range(0..target.weak.len())]);
            s.push_str(pick(rng, &["又", "", "也", "是不是", "好像"]));
            s.push_str(pick(rng, &["崩了", "挂了", "崩啦", "宕机了", "又崩了"]));
        } else {
            s.push_str(&a);
            s.push_str(pick(rng, FILLERS));
            s.push_str(pick(rng, DOWN));
        }
        if chance(rng, 0.65) {
            s.push_str(sep(rng));
            s.push_str(loose_symptom(rng, target, symptoms));
        }
    } else if roll < 0.52 {
        // 微信图片发不出去 / 微信电脑版登不上
        s.push_str(&a);
        if chance(rng, 0.15) {
            s.push_str(pick(rng, target.parts()));
        }
        if chance(rng, 0.2) {
            s.push_str(pick(rng, &["一直", "突然", "又", "怎么", "今天", "全部"]));
            s.push_str(loose_symptom(rng, target, symptoms));
        } else {
            s.push_str(symptom_phrase(rng, target, symptoms));
        }
        if chance(rng, 0.3) {
            s.push_str(sep(rng));
            s.push_str(loose_symptom(rng, target, symptoms));
        }
        if chance(rng, 0.1) {
            s.push_str(pick(rng, &["，", "。", "！"]));
            s.push_str(pick(
                rng,
                &[
                    "重启也不行",
                    "换了网也一样",
                    "卸载重装也没用",
                    "清了缓存也一样",
                ],
            ));
        }
    } else if roll < 0.66 {
        // Questions.
        let sym = symptom_phrase(rng, target, symptoms);
        let loose = sym.strip_prefix('的').unwrap_or(sym);
        match rng.random_range(0..7) {
            0 => s.push_str(&format!("{a}是不是崩了？{loose}")),
            1 => s.push_str(&format!("只有我{a}{sym}吗")),
            2 => s.push_str(&format!("{a}怎么了？{loose}")),
            3 => s.push_str(&format!("有没有人{a}{sym}的")),
            4 => s.push_str(&format!(
                "是不是{a}{}",
                pick(rng, &["崩了", "挂了", "又崩了"])
            )),
            5 => s.push_str(&format!("{a}是不是又挂了{}{loose}", sep(rng))),
            _ => s.push_str(&format!("{a}怎么回事{}{loose}", sep(rng))),
        }
    } else if roll < 0.76 {
        // #微信崩了# 图片发不出去
        s.push('#');
        s.push_str(&target.name);
        s.push_str(pick(rng, HASHTAG_DOWN));
        s.push('#');
        s.push_str(pick(rng, &[" ", "", "\n"]));
        if chance(rng, 0.5) {
            s.push_str(&a);
            s.push_str(symptom_phrase(rng, target, symptoms));
        } else {
            s.push_str(loose_symptom(rng, target, symptoms));
        }
    } else if let Some(situation) = (roll < 0.86)
        .then(|| timed(rng, SITUATIONS, target.kind, hour))
        .flatten()
    {
        // 正在给客户发报价单，微信发不出去
        s.push_str(situation);
        s.push_str(pick(rng, &["，", "，", " ", "！"]));
        s.push_str(pick(rng, RESULT_LINKS));
        s.push_str(&a);
        if chance(rng, 0.5) {
            s.push_str(pick(rng, FILLERS));
            s.push_str(pick(rng, DOWN));
        } else {
            s.push_str(symptom_phrase(rng, target, symptoms));
        }
    } else if roll < 0.93 {
        // 微信崩了，终于有理由不回消息了 (also when no situation fits the hour)
        s.push_str(&a);
        s.push_str(pick(rng, FILLERS));
        s.push_str(pick(rng, &["崩了", "挂了", "崩啦", "宕机了", "炸了"]));
        s.push_str(pick(rng, &["，", "，", " ", "。"]));
        s.push_str(pick(rng, JOKES));
    } else {
        let en = target
            .aliases
            .iter()
            .filter(|x| x.is_ascii())
            .nth(rng.random_range(0..3))
            .map_or(a.as_str(), |x| x.as_str())
            .to_owned();
        s.push_str(&pick(rng, ENGLISH).replace("{a}", &en));
    }
    s
}

/// Complaints that name no service: real outages draw many, and the extractor cannot tell
/// what they are about. `{n}` is a number.
const UNNAMED: &[&str] = &[
    "又崩了？？",
    "是不是崩了",
    "图片发不出去，有人一样吗",
    "怎么又登不上了",
    "消息发不出去，急",
    "一直转圈什么情况",
    "群里的消息都收不到了",
    "我以为是我网不好，原来是崩了",
    "崩了崩了崩了",
    "全是红色感叹号😭",
    "刚重启了{n}次手机，白重启了",
    "同事们都发不出去，集体摸鱼",
    "今天这是怎么了，啥都刷不出来",
    "来这里确认一下是不是崩了",
    "挂了？",
    "救命，工作文件发不出去",
    "又来？？？",
    "我还以为我被封号了，吓死",
    "上热搜了，果然不是我的网",
    "付款码刷不出来，收银员说今天好多人这样",
];

/// Share of an outage's complaints that name no service.
const UNNAMED_SHARE: f64 = 0.04;

/// A complaint about `target` during an outage with the given symptom categories (empty:
/// generic failure wording), posted at `hour` (Beijing time).
pub(crate) fn complaint<R: Rng>(
    rng: &mut R,
    target: &Target,
    symptoms: &[String],
    stage: Stage,
    hour: u32,
) -> String {
    let mut s = String::new();
    if stage != Stage::Sporadic && chance(rng, UNNAMED_SHARE) {
        let t = pick(rng, UNNAMED);
        return fill_n(rng, t);
    }
    if chance(rng, 0.12) {
        // A repost: own words, maybe a middle link, then the quoted complaint.
        if chance(rng, 0.3) {
            s.push_str(pick(rng, REPOST_OWN_CUE));
        } else {
            s.push_str(pick(rng, REPOST_OWN));
        }
        if chance(rng, 0.25) {
            s.push_str(" //@");
            s.push_str(&nick(rng));
            s.push(':');
            s.push_str(pick(rng, &["同", "+1", "一样", "我也是", "真的"]));
        }
        s.push_str(" //@");
        s.push_str(&nick(rng));
        s.push(':');
        s.push_str(&complaint_core(rng, target, symptoms, stage, hour));
    } else {
        opener(rng, target.kind, hour, &mut s);
        s.push_str(&complaint_core(rng, target, symptoms, stage, hour));
        tail(rng, target, &mut s);
    }
    if chance(rng, 0.06) {
        s = traditional(&s);
    }
    s
}

// ---------------------------------------------------------------------------------------
// Recoveries
// ---------------------------------------------------------------------------------------

const BACK: &[&str] = &[
    "恢复了",
    "好了",
    "好啦",
    "恢复正常了",
    "能用了",
    "可以用了",
    "活过来了",
    "复活了",
    "回来了",
    "又好了",
    "修好了",
    "正常了",
    "没事了",
    "OK了",
    "好使了",
    "已经恢复了",
    "终于好了",
    "恢复",
    "已恢复",
];

/// Working-again wording by symptom category, after a service name.
fn back_pool(category: &str) -> &'static [&'static str] {
    match category {
        "登录" => &[
            "能登了",
            "能登上了",
            "登上了",
            "终于能登了",
            "能上号了",
            "扫码能登了",
        ],
        "消息" => &[
            "能发了",
            "消息能发了",
            "发出去了",
            "消息终于发出去了",
            "消息发出去了",
        ],
        "图片/文件" => &[
            "图片能发了",
            "图片也能发了",
            "图片刷出来了",
            "文件能发了",
            "图片发出去了",
        ],
        "支付" => &["付款能用了", "付款码能刷出来了", "转账能用了", "红包能发了"],
        "通话" => &["语音能打通了", "打通了", "视频通话打通了"],
        "朋友圈/动态" => &["朋友圈能刷出来了", "朋友圈刷出来了", "朋友圈能发了"],
        "联系人" => &["通讯录刷出来了", "好友列表刷出来了"],
        "小程序" => &["的小程序能用了", "乘车码能用了", "健康码刷出来了"],
        "网络/服务器" => &["能进了", "能刷出来了", "能用了", "恢复正常了"],
        "视频/直播" => &["的视频刷出来了", "直播能进了", "刷出来了"],
        "邮箱" => &["邮箱能登了", "邮件发出去了"],
        _ => &["能进了", "能用了", "能下单了", "能刷出来了"],
    }
}

const RECOVERY_TAILS: &[&str] = &[
    "虚惊一场",
    "该上班了",
    "摸鱼时间结束",
    "可以继续搬砖了",
    "感谢运维小哥",
    "程序员辛苦了",
    "我还以为是我手机坏了",
    "刚刚还以为被拉黑了",
    "谢天谢地",
    "老板的消息也跟着来了（不是）",
    "感觉像过了一个世纪",
    "补偿呢？",
    "吓死我了",
    "世界又吵闹起来了",
    "群里瞬间99+",
    "赶紧把文件发了",
    "哈哈哈哈",
    "😂",
    "🎉",
    "[赞]",
    "[哈哈]",
];

const RECOVERY_OPENERS: &[&str] = &[
    "终于",
    "好了好了",
    "家人们",
    "刚刚看了一下",
    "报告",
    "哇",
    "啊啊啊",
    "nice",
    "终于终于",
    "刷新了一下",
];

/// A post saying `target` works again.
pub(crate) fn recovery<R: Rng>(rng: &mut R, target: &Target, symptoms: &[String]) -> String {
    let mut s = String::new();
    let a = target.alias(rng).to_owned();
    let category: &str = if symptoms.is_empty() {
        ""
    } else {
        &symptoms[rng.random_range(0..symptoms.len())]
    };
    match rng.random_range(0..10) {
        0..=3 => {
            if chance(rng, 0.3) {
                s.push_str(pick(rng, RECOVERY_OPENERS));
                s.push_str(pick(rng, &["，", "！", " "]));
            }
            s.push_str(&a);
            s.push_str(pick(rng, &["", "", "终于", "已经", "总算", "又", "好像"]));
            s.push_str(pick(rng, BACK));
        }
        4..=5 => {
            s.push_str(&a);
            s.push_str(pick(rng, back_pool(category)));
        }
        6 => {
            s.push_str(pick(rng, &["刚才", "刚刚"]));
            s.push_str(&a);
            s.push_str(pick(rng, &["崩了半天", "是真崩了", "挂了好久", "一直转圈"]));
            s.push('，');
            s.push_str(pick(
                rng,
                &["现在好了", "现在能用了", "现在恢复了", "终于好了"],
            ));
        }
        7 => {
            s.push('#');
            s.push_str(&target.name);
            s.push_str(pick(rng, &["崩了", "恢复", "恢复了"]));
            s.push_str("# ");
            s.push_str(&a);
            s.push_str(pick(rng, BACK));
        }
        8 => {
            s.push_str(pick(rng, &["好了", "恢复了", "能用了", "我这好了"]));
            s.push_str(" //@");
            s.push_str(&nick(rng));
            s.push(':');
            s.push_str(&a);
            s.push_str(pick(rng, BACK));
        }
        _ => {
            s.push_str(&a);
            s.push_str(pick(rng, BACK));
            s.push_str(pick(rng, &["，", "！", " "]));
            s.push_str(pick(rng, back_pool(category)));
        }
    }
    if chance(rng, 0.45) {
        s.push_str(pick(rng, &["，", "！", "～", "。"]));
        s.push_str(pick(rng, RECOVERY_TAILS));
    }
    if chance(rng, 0.05) {
        s = traditional(&s);
    }
    s
}

// ---------------------------------------------------------------------------------------
// Everyday chatter
// ---------------------------------------------------------------------------------------

/// Everyday uses of a service, by kind: `{s}` is the service name, `{n}` a number.
fn usage_pool(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Im => &[
            "给我妈{s}转了{n}块钱",
            "{s}群里又有人在发养生文章",
            "{s}步数今天{n}000步",
            "在{s}上和闺蜜聊了一晚上",
            "{s}收藏的文章越攒越多",
            "用{s}给我爸发了个红包",
            "{s}群里抢到{n}块红包，开心",
            "把照片发到{s}家庭群里了",
            "{s}里的表情包又多了几个",
            "刚在{s}上约好周末吃火锅",
            "{s}置顶了我家猫",
            "{s}语音聊了一个小时",
            "新同事加了我{s}",
            "{s}里的聊天记录该清理了",
            "{s}上收到了大学同学的结婚请柬",
            "下班第一件事就是把工作群的{s}设成免打扰",
            "{s}视频给爷爷奶奶拜年",
            "{s}换了个新头像",
            "{s}文件传输助手是我最常聊天的对象",
            "在{s}里拉了个饭搭子群",
        ],
        Kind::Work => &[
            "{s}上又被拉进一个新群",
            "{s}打卡成功，今天没迟到",
            "在{s}上开了一下午会",
            "{s}日程排得满满的",
            "周末{s}消息静音",
            "{s}文档写了一上午",
            "用{s}给同事发了份周报",
            "{s}审批终于过了",
        ],
        Kind::Cloud => &[
            "{s}服务器到期了，续费肉疼",
            "在{s}上搭了个博客",
            "{s}搞活动，买了台新机器",
            "把个人网站迁到{s}上了",
            "{s}的文档写得挺清楚",
            "今天研究了一下{s}的对象存储",
        ],
        Kind::Video => &[
            "刷{s}刷到两点",
            "在{s}上看了一部纪录片",
            "{s}推荐的视频越来越懂我",
            "{s}上追的剧今晚大结局",
            "{s}会员续费了",
            "在{s}学做红烧肉",
            "{s}上看到一只会开门的猫",
            "躺床上刷{s}，一晚上过去了",
            "{s}直播间的主播一晚上卖了三百单",
            "{s}上的健身视频跟练了半小时",
            "{s}上一个up主更新了",
            "在{s}上看了{n}集电视剧",
        ],
        Kind::Game => &[
            "{s}上分了，今晚五连胜",
            "和室友开黑打{s}",
            "{s}新皮肤好好看",
            "{s}今天又输了三把",
            "{s}活动奖励领了",
            "周末{s}打了一下午",
        ],
        Kind::Payment => &[
            "{s}年度账单出来了，原来我这么能花",
            "{s}蚂蚁森林又种了一棵树",
            "用{s}交了电费",
            "{s}余额宝收益{n}毛钱",
            "{s}还完花呗，又是穷光蛋",
            "用{s}给手机充了话费",
            "{s}积分换了个小礼品",
            "{s}扫码骑了个共享单车",
        ],
        Kind::Shopping => &[
            "{s}上买的绿植到了，叶子好嫩",
            "{s}下单了一件外套",
            "{s}上买的东西明天到",
            "逛了一晚上{s}，什么都没买",
            "{s}上淘到一个好看的杯子",
            "{s}购物车又满了",
            "在{s}上给我妈买了件羽绒服",
            "{s}的快递到了，拆快递好快乐",
            "{s}买的纸巾囤了一柜子",
            "{s}百亿补贴买了副耳机",
        ],
        Kind::Map => &[
            "用{s}导航去了一家新开的店",
            "{s}的语音包换成了林志玲",
            "跟着{s}走，绕了一大圈",
            "{s}查了一下，还要堵四十分钟",
        ],
        Kind::Food => &[
            "{s}点了奶茶，外卖小哥好快",
            "用{s}点了份麻辣烫",
            "{s}上的红包叠加满减，划算",
            "在{s}上点了夜宵",
            "{s}外卖又送错楼了，小哥人很好",
            "周末懒得做饭，{s}点了披萨",
        ],
        Kind::News => &[
            "{s}上看到一个很暖的新闻",
            "{s}推的新闻越来越离谱",
            "每天早上刷一会儿{s}",
        ],
        Kind::Social => &[
            "{s}上又有新瓜",
            "在{s}上看到一个很有意思的回答",
            "{s}热搜第一是什么鬼",
            "{s}上关注的博主更新了",
            "在{s}上抽奖从来没中过",
            "{s}上的网友太有才了",
            "{s}评论区比正文好看",
            "{s}上看到一只会说话的鹦鹉",
        ],
        Kind::Search => &[
            "{s}了一下这个词的意思",
            "{s}搜了一下菜谱",
            "用{s}查了查这个病，吓死我了",
            "{s}地图找了家烤肉店",
        ],
        Kind::Storage => &[
            "{s}里存的电影一直没看",
            "把照片备份到{s}了",
            "{s}会员又续了一年",
            "{s}清理了一下，腾出好多空间",
        ],
        Kind::Mobility => &[
            "{s}打车回家，司机师傅人很好",
            "下雨天{s}排队{n}人",
            "用{s}叫了辆车去机场",
            "{s}司机一路在听相声",
        ],
        Kind::Music => &[
            "{s}的每日推荐太懂我了",
            "{s}年度歌单出来了",
            "在{s}上循环了一首老歌",
            "{s}评论区都是故事",
        ],
        Kind::Travel => &[
            "{s}抢到回家的票了",
            "在{s}上订了国庆的酒店",
            "{s}候补买到票了，激动",
            "{s}买好了下周去成都的车票",
            "{s}上看了一圈机票，还是贵",
        ],
        Kind::Telecom => &[
            "{s}送了{n}G流量",
            "给爸妈办了个{s}的套餐",
            "{s}话费充值打了折",
        ],
    }
}

const COMMENTS: &[&str] = &[
    "开心",
    "哈哈哈",
    "好累",
    "明天还要上班",
    "周末愉快",
    "爱了爱了",
    "好想放假",
    "羡慕",
    "真香",
    "生活需要仪式感",
    "就这样吧",
    "加油",
    "晚安",
    "早安",
    "太难了",
    "笑死",
    "有点东西",
    "离谱",
    "绝绝子",
    "好幸福",
    "不想上班",
    "岁月静好",
    "穷",
    "冲",
    "yyds",
    "打工人加油",
    "emo了",
    "蚌埠住了",
    "真不错",
    "下次还来",
    "😂",
    "😊",
    "🥰",
    "🤣",
    "👍",
    "[doge]",
    "[哈哈]",
    "[good]",
    "[酷]",
];

const TIMES: &[&str] = &[
    "今天",
    "早上",
    "中午",
    "下午",
    "晚上",
    "周末",
    "刚刚",
    "昨晚",
    "下班后",
    "午休时",
    "睡前",
    "一大早",
    "今天中午",
    "今晚",
];

const ACTIVITIES: &[&str] = &[
    "去公园跑了五公里",
    "做了一顿红烧排骨",
    "把房间收拾了一遍",
    "和朋友去吃了火锅",
    "看完了一本小说",
    "去超市买了一大堆零食",
    "在家撸猫",
    "学了一个新菜",
    "带娃去了动物园",
    "去图书馆自习",
    "加了一晚上班",
    "终于把驾照考下来了",
    "剪了个新发型",
    "给阳台的花浇了水",
    "去看了场电影",
    "骑车去江边转了一圈",
    "跟老妈视频聊天",
    "练了一小时吉他",
    "把冬天的衣服翻出来了",
    "去面试了一家公司",
    "喝了三杯咖啡",
    "睡到自然醒",
    "和同事去吃了烤肉",
    "整理了一下书架",
    "在楼下遛狗",
    "做了个体检",
    "去宜家逛了逛",
    "陪爸妈去爬山",
    "背了五十个单词",
    "第一次做蛋糕",
    "去菜市场买了条鱼",
    "看了场球赛",
    "去剧本杀玩了一晚上",
    "在家追剧",
    "把周报写完了",
    "拼了一下午乐高",
];

const LINES: &[&str] = &[
    "周一综合症又犯了",
    "今天的晚霞好美",
    "楼下新开了一家面馆，味道不错",
    "减肥第三天，想吃炸鸡",
    "下雨天适合睡觉",
    "又是想辞职的一天",
    "有没有好看的电视剧推荐",
    "地铁上有人在吃韭菜盒子",
    "猫主子今天又把杯子推下去了",
    "今天的咖啡特别好喝",
    "老板说今天早点下班，感动",
    "快递小哥今天来得特别早",
    "终于到周五了",
    "这天气说变就变",
    "年终总结写得头秃",
    "邻居家的狗又在叫",
    "冬天的被窝是最难离开的地方",
    "今天去银行办事排了一个小时队",
    "公司楼下的奶茶店排长队",
    "小区里的桂花开了，好香",
    "早起的鸟儿有虫吃，早起的我只有困",
    "健身房办了卡，一次都没去",
    "今天发工资，明天就没了",
    "家里的绿萝长得好快",
    "考研倒计时一百天",
    "今天学会了一个新词",
    "想去海边",
    "明天要早起，今晚早点睡",
    "空调开了一整天",
    "外面的雪好大",
    "Monday again",
    "happy weekend",
    "coffee time",
    "good night everyone",
    "今天的月亮好圆",
    "孩子今天第一次叫爸爸",
    "又胖了两斤",
    "下班路上看到一道彩虹",
    "想吃妈妈做的饭",
    "今年的目标：存钱",
    "最近在学做饭",
    "周末计划：睡觉",
    "这家店的小笼包绝了",
    "房东说下个月涨房租",
    "同事给我带了家乡的特产",
    "新买的鞋子有点磨脚",
    "今天走了两万步",
    "终于把拖延了一个月的事做完了",
];

const CITIES: &[&str] = &[
    "北京", "上海", "广州", "深圳", "杭州", "成都", "重庆", "武汉", "西安", "南京", "长沙", "厦门",
    "青岛", "苏州", "天津", "郑州",
];

const WEATHER: &[&str] = &[
    "下了一整天雨",
    "三十八度",
    "终于降温了",
    "大太阳",
    "刮大风",
    "下雪了",
    "雾霾好重",
    "天气超好",
    "又闷又热",
];

/// Trouble of the user's own making, worded like a complaint: not an outage, and a source
/// of the extractor's false complaints in real streams. `{s}` is a service.
const OWN_TROUBLE: &[&str] = &[
    "密码输错三次，{s}登不上了，要去申诉",
    "忘了交话费停机了，{s}验证码收不到",
    "家里欠费断网了，{s}刷不出来，我还以为崩了",
    "手机内存满了，{s}打不开，该清理了",
    "{s}版本太旧了，提示要更新才能登录",
    "在山里没信号，{s}一直转圈",
    "公司的网把{s}屏蔽了，打不开",
];

/// Own trouble that fits only some kinds of service.
fn own_trouble_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Payment => &[
            "{s}余额不足，付款失败了，尴尬",
            "银行卡额度不够，{s}付款失败",
            "{s}实名认证一直失败，原来是身份证过期了",
        ],
        Kind::Im => &[
            "换了新手机，{s}聊天记录迁移失败，哭",
            "在山里没信号，{s}消息发不出去",
            "{s}零钱余额不足，转账失败了，尴尬",
        ],
        Kind::Shopping | Kind::Food => &["银行卡额度不够，{s}付款失败", "地址填错了，{s}下单失败"],
        _ => &[],
    }
}

/// Share of background posts that are the user's own trouble.
const OWN_TROUBLE_SHARE: f64 = 0.002;

/// An everyday post, often naming a service in normal use.
pub(crate) fn background<R: Rng>(rng: &mut R) -> String {
    let roll: f64 = rng.random();
    let mut s = String::new();
    if roll < OWN_TROUBLE_SHARE {
        let svc = services::by_size(rng.random());
        let special = own_trouble_of(svc.kind);
        let t = if !special.is_empty() && chance(rng, 0.5) {
            pick(rng, special)
        } else {
            pick(rng, OWN_TROUBLE)
        };
        return t.replace("{s}", Target::from_service(svc).plain(rng));
    }
    if roll < 0.45 {
        let svc = services::by_size(rng.random());
        let target = Target::from_service(svc);
        if chance(rng, 0.2) {
            s.push_str(pick(rng, TIMES));
        }
        let t = pick(rng, usage_pool(svc.kind));
        let filled = t.replace("{s}", target.plain(rng));
        s.push_str(&fill_n(rng, &filled));
    } else if roll < 0.70 {
        if chance(rng, 0.7) {
            s.push_str(pick(rng, TIMES));
        }
        s.push_str(pick(rng, ACTIVITIES));
    } else if roll < 0.92 {
        s.push_str(pick(rng, LINES));
    } else {
        s.push_str(pick(rng, CITIES));
        s.push_str(pick(rng, &["今天", "这几天", "", "又"]));
        s.push_str(pick(rng, WEATHER));
    }
    if chance(rng, 0.55) {
        s.push_str(pick(rng, &["，", "，", "！", " ", "。", "~"]));
        s.push_str(pick(rng, COMMENTS));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Confounders: other senses of 崩/挂/炸/卡
// ---------------------------------------------------------------------------------------

/// Posts that use 崩/挂/炸/卡 in a sense that is not an outage; `{s}` is a service in normal
/// use, `{n}` a number.
const CONFOUNDERS: &[&str] = &[
    "在{p}上看到前任结婚了，心态崩了",
    "{p}上刷到期末成绩，考试挂了[允悲]",
    "高数挂科了，不敢在{im}上跟我妈说",
    "用{pay}挂号，专家号排到下周了",
    "{pay}上挂了个专家号，明天去医院",
    "发了张自拍，朋友圈炸了",
    "我的朋友圈炸了，{n}个赞",
    "评论区炸了，哈哈哈",
    "手机卡了，该换新的了",
    "我手机卡了，刷{video}一顿一顿的",
    "{video}上追的那部剧，剧情崩了",
    "买了张京东卡送同事",
    "公司发了{n}块的京东卡，开心",
    "{game}遇到开挂的，气死",
    "挂机一晚上，{game}里的金币满了",
    "人设崩了，粉丝在{p}上吵翻天",
    "这部动漫画风崩了",
    "崩铁更新了，今晚不睡了",
    "股市崩了，{pay}基金绿了一片",
    "炸鸡配啤酒，{food}外卖点的",
    "打卡第{n}天，坚持就是胜利",
    "银行卡绑到{pay}上了",
    "心态炸了，今天什么都不顺",
    "十连抽又歪了，我要崩溃了",
    "刚挂了电话，我妈又打过来了",
    "{video}卡点视频剪了一下午",
    "饭卡丢了，只能用{pay}付",
    "破防了，{video}上这个视频太感人了",
    "看完{p}上的瓜，三观炸裂",
    "房价崩了？中介在{im}上天天发消息",
    "考试挂了，暑假要补考",
    "闲鱼挂了个二手相机，{n}块出",
    "把旧吉他挂闲鱼上了",
    "{video}直播间的炸串看饿了",
    "心态崩了，{p}上的房子又涨价了",
    "大盘崩了，韭菜本菜在{p}上哭",
    "外挂被封了，{game}干得漂亮",
    "卡路里又超标了",
    "新买的会员卡用了一次",
    "卡通头像换了一个",
    "信用卡账单到了，心态崩了",
    "这个游戏卡关卡了一晚上",
    "情绪崩溃，想在{p}上找个树洞",
    "笑崩了，{p}上的段子手太有才",
    "我的挂件掉了，心疼",
    "牵挂的人在远方",
    "{p}评论区炸锅了",
    "油炸的东西少吃点",
    "在{p}上刷到崩坏星穹铁道的新角色",
    "要崩溃了，论文还没写完",
];

/// Services that confounder posts name, by placeholder.
const CONFOUNDER_SERVICES: &[(&str, &[&str])] = &[
    (
        "{p}",
        &[
            "微信",
            "微博",
            "抖音",
            "B站",
            "快手",
            "知乎",
            "QQ",
            "今日头条",
        ],
    ),
    ("{im}", &["微信", "QQ"]),
    ("{pay}", &["支付宝", "微信", "支付宝"]),
    (
        "{video}",
        &["抖音", "B站", "快手", "腾讯视频", "爱奇艺", "优酷"],
    ),
    ("{game}", &["王者荣耀", "原神"]),
    ("{food}", &["美团", "饿了么"]),
];

/// A post that uses 崩/挂/炸/卡 in another sense, often naming a service.
pub(crate) fn confounder<R: Rng>(rng: &mut R) -> String {
    let mut s = pick(rng, CONFOUNDERS).to_owned();
    for (placeholder, names) in CONFOUNDER_SERVICES {
        if s.contains(placeholder) {
            let target = Target::of(pick(rng, names));
            s = s.replace(placeholder, target.plain(rng));
        }
    }
    s = fill_n(rng, &s);
    if chance(rng, 0.4) {
        s.push_str(pick(
            rng,
            &["😭", "🙃", "[允悲]", "哈哈哈", "😂", "…", "！"],
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Bursts
// ---------------------------------------------------------------------------------------

const FEATURES: &[&str] = &[
    "消息可以编辑了",
    "能设置状态了",
    "深色模式",
    "拍一拍能撤回",
    "语音转文字",
    "新的表情包",
    "朋友圈可以置顶",
    "听一听",
    "多设备同时在线",
    "聊天记录可以迁移到电脑",
    "转账可以加备注",
    "新的个性签名样式",
    "青少年模式",
    "群公告可以投票",
    "一键清理缓存",
    "视频号直播回放",
    "表情包可以搜索",
    "消息免打扰分组",
    "大字模式",
    "AI搜索",
];

const FEATURE_REACTIONS: &[&str] = &[
    "终于等到了",
    "好评",
    "有点意思",
    "已经用上了",
    "还没推送给我",
    "产品经理加鸡腿",
    "谁想出来的，太懂了",
    "试了一下，挺好玩",
    "有点不习惯",
    "哈哈哈哈哈",
    "我要去试试",
    "这个必须点赞",
    "等了好多年",
    "实用",
    "好家伙，真会玩",
    "打工人狂喜",
    "社恐狂喜",
    "求教程",
    "我先冲了",
    "太香了",
];

const FEATURE_FORMS: &[&str] = &[
    "{a}更新了，{f}，{r}",
    "{a}新功能：{f}，{r}",
    "#{c}新功能# {f}，{r}",
    "刚更新{a}，{f}，{r}",
    "{a}新版本上线{f}了",
    "{a}终于有{f}了，{r}",
    "听说{a}出了{f}？{r}",
    "{a}{f}这个功能{r}",
    "{a}又更新了，这次是{f}",
    "{a}的{f}用了一下，{r}",
];

const SALE_EVENTS: &[&str] = &[
    "零点抢购",
    "付完尾款了",
    "定金付了",
    "购物车{n}件",
    "满减凑单凑到头秃",
    "双十一",
    "双11",
    "秒杀",
    "抢到了",
    "手慢无",
    "红包雨",
    "预售",
    "百亿补贴",
    "清空购物车",
    "狂欢节",
    "限时抢购",
    "满300减50",
];

const SALE_COMMENTS: &[&str] = &[
    "钱包空了",
    "吃土一个月",
    "剁手",
    "明年再也不买了",
    "快递什么时候到",
    "凑单凑了半小时",
    "省了{n}块",
    "冲冲冲",
    "熬夜抢购",
    "囤了一年的纸巾",
    "给我妈买了件大衣",
    "这价格真香",
    "算了半天满减",
    "好激动",
    "等快递的日子最开心",
    "手速还是不够快",
];

const SALE_FORMS: &[&str] = &[
    "{a}{e}，{m}",
    "#{c}双十一# {e}，{m}",
    "今晚{a}{e}，{m}",
    "{a}的{e}开始了，{m}",
    "在{a}上{e}，{m}",
    "{a}{e}！{m}",
    "守着{a}等零点，{m}",
    "{a}付款付了{n}单，{m}",
];

const MEMES: &[&str] = &[
    "疯狂星期四",
    "city不city",
    "挖呀挖",
    "显眼包",
    "遥遥领先",
    "尊嘟假嘟",
    "泰裤辣",
    "偷感很重",
    "班味",
    "松弛感",
    "发疯文学",
    "e人i人",
    "搭子",
    "情绪价值",
    "鼠鼠我呀",
    "i人狂喜",
    "多巴胺穿搭",
    "脆皮大学生",
];

const MEME_FORMS: &[&str] = &[
    "{a}上全是{m}",
    "今天{a}被{m}刷屏了",
    "{m}是什么梗？{a}上到处都是",
    "笑死，{a}评论区都在{m}",
    "{a}热搜：{m}",
    "#{m}# 在{a}上看到的，笑死",
    "{a}上的{m}视频我能看一天",
    "我妈也在{a}上学{m}了",
    "{m}这个梗{a}上玩疯了",
    "看了一晚上{a}的{m}，哈哈哈哈",
];

/// A post of a harmless burst about `target`.
pub(crate) fn burst<R: Rng>(rng: &mut R, kind: crate::BurstKind, target: &Target) -> String {
    let a = target.plain(rng).to_owned();
    let c = target.name.as_str();
    let mut s = match kind {
        crate::BurstKind::FeatureLaunch => pick(rng, FEATURE_FORMS)
            .replace("{a}", &a)
            .replace("{c}", c)
            .replace("{f}", pick(rng, FEATURES))
            .replace("{r}", pick(rng, FEATURE_REACTIONS)),
        crate::BurstKind::ShoppingFestival => pick(rng, SALE_FORMS)
            .replace("{a}", &a)
            .replace("{c}", c)
            .replace("{e}", pick(rng, SALE_EVENTS))
            .replace("{m}", pick(rng, SALE_COMMENTS)),
        crate::BurstKind::Meme => pick(rng, MEME_FORMS)
            .replace("{a}", &a)
            .replace("{m}", pick(rng, MEMES)),
    };
    s = fill_n(rng, &s);
    if chance(rng, 0.3) {
        s.push_str(pick(
            rng,
            &["😂", "🎉", "[doge]", "哈哈哈", "！", "～", "👍", "🤣"],
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use benglema_model::SignalKind;
    use benglema_text::Extractor;
    use std::sync::OnceLock;

    fn ex() -> &'static Extractor {
        static EX: OnceLock<Extractor> = OnceLock::new();
        EX.get_or_init(Extractor::embedded)
    }

    fn read(text: &str) -> Option<(SignalKind, String)> {
        ex().extract(text).map(|s| (s.kind, s.service))
    }

    const CATEGORIES: &[&str] = &[
        "登录",
        "消息",
        "图片/文件",
        "支付",
        "通话",
        "朋友圈/动态",
        "联系人",
        "小程序",
        "闪退/打不开",
        "网络/服务器",
        "视频/直播",
        "邮箱",
        "",
    ];

    /// Every alias followed by every failure phrase reads as a complaint of its service, and
    /// followed by every working-again phrase as a recovery.
    #[test]
    fn every_alias_and_phrase_reads_right() {
        let mut phrases: Vec<&str> = DOWN.to_vec();
        phrases.extend(STILL);
        for c in CATEGORIES {
            phrases.extend(symptom_pool(c));
        }
        let mut backs: Vec<&str> = BACK.to_vec();
        for c in CATEGORIES {
            backs.extend(back_pool(c));
        }
        let mut bad = Vec::new();
        let mut n = 0;
        for s in services::services() {
            for a in &s.aliases {
                for p in &phrases {
                    n += 1;
                    let t = format!("{a}{p}");
                    if read(&t) != Some((SignalKind::Complaint, s.name.to_owned())) {
                        bad.push(format!("C {t} -> {:?}", read(&t)));
                    }
                }
                for p in &backs {
                    n += 1;
                    let t = format!("{a}{p}");
                    if read(&t) != Some((SignalKind::Recovery, s.name.to_owned())) {
                        bad.push(format!("R {t} -> {:?}", read(&t)));
                    }
                }
            }
        }
        for b in &bad {
            println!("{b}");
        }
        println!("{} of {n} read wrong", bad.len());
        assert!(bad.is_empty());
    }
}

//! The services the simulator knows, read from `models/`: names and kinds from the gazetteer
//! (`services.toml`, the extractor's own), and from `simulator.toml` which of them the posts
//! talk about, in what order, how big each user base is and the ways people write the names.
//! Both files are embedded; a simulator service missing from the gazetteer, or of a kind the
//! simulator has no posts for, is a bug in `models/` and fails the first use (and the tests).

use std::sync::OnceLock;

use serde::Deserialize;

/// Embedded `models/services.toml`.
const SERVICES_TOML: &str = include_str!("../../../models/services.toml");
/// Embedded `models/simulator.toml`.
const SIMULATOR_TOML: &str = include_str!("../../../models/simulator.toml");

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

impl Kind {
    /// The kind of a `kind = "..."` of `models/`, if the simulator writes posts for it.
    fn parse(s: &str) -> Option<Kind> {
        use Kind::*;
        Some(match s {
            "im" => Im,
            "work" => Work,
            "cloud" => Cloud,
            "video" => Video,
            "game" => Game,
            "payment" => Payment,
            "shopping" => Shopping,
            "map" => Map,
            "food" => Food,
            "news" => News,
            "social" => Social,
            "search" => Search,
            "storage" => Storage,
            "mobility" => Mobility,
            "music" => Music,
            "travel" => Travel,
            "telecom" => Telecom,
            _ => return None,
        })
    }
}

/// One service, as the simulator sees it.
#[derive(Debug)]
pub(crate) struct Service {
    /// Canonical name, as the extractor reports it.
    pub name: String,
    /// Relative size of the user base: peak complaints per minute of a daytime outage, and
    /// the weight of the service in everyday chatter.
    pub size: f64,
    pub kind: Kind,
    /// Unambiguous ways to write the name (aliases of `models/services.toml`, in mixed case
    /// and width where people write them so); the first is the usual one and is picked most.
    pub aliases: Vec<String>,
    /// Nicknames that are also ordinary words (企鹅): used only right before a cue.
    pub weak: Vec<String>,
}

#[derive(Deserialize)]
struct Gazetteer {
    service: Vec<GazetteerEntry>,
}

#[derive(Deserialize)]
struct GazetteerEntry {
    name: String,
    kind: String,
}

#[derive(Deserialize)]
struct SimulatorFile {
    service: Vec<SimEntry>,
    #[serde(default)]
    unlisted: Vec<SimEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimEntry {
    name: String,
    /// Only for unlisted services (listed ones take the gazetteer's).
    kind: Option<String>,
    size: f64,
    written: Vec<String>,
    #[serde(default)]
    weak: Vec<String>,
}

/// The simulator's services: listed (in `simulator.toml` order) and unlisted.
#[derive(Debug)]
struct Table {
    listed: Vec<Service>,
    unlisted: Vec<Service>,
}

/// Reads the two files; the message says what in `models/` is wrong.
fn load(gazetteer: &str, simulator: &str) -> Result<Table, String> {
    let g: Gazetteer =
        toml::from_str(gazetteer).map_err(|e| format!("models/services.toml: {e}"))?;
    let s: SimulatorFile =
        toml::from_str(simulator).map_err(|e| format!("models/simulator.toml: {e}"))?;
    let service = |e: SimEntry, kind: &str| -> Result<Service, String> {
        let kind = Kind::parse(kind).ok_or_else(|| {
            format!(
                "models/simulator.toml: {}: the simulator has no posts for kind {kind:?}",
                e.name
            )
        })?;
        if e.written.is_empty() || !e.size.is_finite() || e.size <= 0.0 {
            return Err(format!(
                "models/simulator.toml: {}: needs a positive size and a written name",
                e.name
            ));
        }
        Ok(Service {
            name: e.name,
            size: e.size,
            kind,
            aliases: e.written,
            weak: e.weak,
        })
    };
    let mut listed = Vec::with_capacity(s.service.len());
    for e in s.service {
        let Some(def) = g.service.iter().find(|d| d.name == e.name) else {
            return Err(format!(
                "models/simulator.toml: {} is not in models/services.toml (unlisted services go under [[unlisted]])",
                e.name
            ));
        };
        if listed.iter().any(|x: &Service| x.name == e.name) {
            return Err(format!("models/simulator.toml: {} twice", e.name));
        }
        if e.kind.is_some() {
            return Err(format!(
                "models/simulator.toml: {}: a listed service takes its kind from models/services.toml; remove `kind`",
                e.name
            ));
        }
        listed.push(service(e, &def.kind)?);
    }
    let mut unlisted = Vec::with_capacity(s.unlisted.len());
    for e in s.unlisted {
        if g.service.iter().any(|d| d.name == e.name) {
            return Err(format!(
                "models/simulator.toml: unlisted {} is in models/services.toml",
                e.name
            ));
        }
        if unlisted.iter().any(|x: &Service| x.name == e.name) {
            return Err(format!("models/simulator.toml: unlisted {} twice", e.name));
        }
        let Some(kind) = e.kind.clone() else {
            return Err(format!(
                "models/simulator.toml: unlisted {} needs a `kind` (it is not in models/services.toml)",
                e.name
            ));
        };
        unlisted.push(service(e, &kind)?);
    }
    if unlisted.is_empty() {
        return Err(
            "models/simulator.toml: needs an [[unlisted]] service (the hard history's undiscovered-service outages name one)"
                .to_owned(),
        );
    }
    Ok(Table { listed, unlisted })
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| load(SERVICES_TOML, SIMULATOR_TOML).unwrap_or_else(|e| panic!("{e}")))
}

/// Every service the simulator's posts talk about (all listed in the gazetteer).
pub(crate) fn services() -> &'static [Service] {
    &table().listed
}

/// Services that `models/services.toml` deliberately does not list: an incident naming one
/// tests new-service discovery (the extractor must read the name from the text). They never
/// appear in everyday chatter.
pub(crate) fn unlisted() -> &'static [Service] {
    &table().unlisted
}

/// The service of a canonical name, if the simulator knows it (listed or not).
pub(crate) fn lookup(name: &str) -> Option<&'static Service> {
    services().iter().chain(unlisted()).find(|s| s.name == name)
}

/// Sum of all sizes, to draw a service in proportion to its size.
pub(crate) fn total_size() -> f64 {
    services().iter().map(|s| s.size).sum()
}

/// Draws a service in proportion to its size from a uniform number in `[0, 1)`.
pub(crate) fn by_size(u: f64) -> &'static Service {
    let mut x = u * total_size();
    for s in services() {
        if x < s.size {
            return s;
        }
        x -= s.size;
    }
    &services()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_service_has_an_alias() {
        let all = services();
        assert_eq!(all.len(), 36);
        for (i, s) in all.iter().enumerate() {
            assert!(!s.aliases.is_empty(), "{}", s.name);
            assert!(s.size > 0.0, "{}", s.name);
            assert!(
                all[..i].iter().all(|t| t.name != s.name),
                "{} twice",
                s.name
            );
        }
        assert_eq!(lookup("微信").map(|s| s.kind), Some(Kind::Im));
        assert_eq!(lookup("小蓝书").map(|s| s.kind), Some(Kind::Social));
        assert!(lookup("不存在").is_none());
        assert_eq!(by_size(0.0).name, "微信");
        assert_eq!(by_size(0.999_999).name, all.last().unwrap().name);
    }

    #[test]
    fn a_simulator_service_must_be_in_the_gazetteer_with_a_kind_it_has_posts_for() {
        let g = "[[service]]\nname = \"微信\"\nkind = \"im\"\n\n[[service]]\nname = \"工行\"\nkind = \"bank\"\n";
        let blue = "[[unlisted]]\nname = \"小蓝书\"\nkind = \"social\"\nsize = 1.0\nwritten = [\"小蓝书\"]\n";
        let ok = format!("[[service]]\nname = \"微信\"\nsize = 1.0\nwritten = [\"微信\"]\n{blue}");
        assert_eq!(load(g, &ok).map(|t| t.listed.len()), Ok(1));
        let no_unlisted = "[[service]]\nname = \"微信\"\nsize = 1.0\nwritten = [\"微信\"]\n";
        assert!(load(g, no_unlisted)
            .unwrap_err()
            .contains("needs an [[unlisted]]"));
        let kinded = format!(
            "[[service]]\nname = \"微信\"\nkind = \"im\"\nsize = 1.0\nwritten = [\"微信\"]\n{blue}"
        );
        assert!(load(g, &kinded).unwrap_err().contains("remove `kind`"));
        let kindless = "[[service]]\nname = \"微信\"\nsize = 1.0\nwritten = [\"微信\"]\n[[unlisted]]\nname = \"小蓝书\"\nsize = 1.0\nwritten = [\"小蓝书\"]\n";
        assert!(load(g, kindless).unwrap_err().contains("needs a `kind`"));
        let twice = format!("{ok}{blue}");
        assert!(load(g, &twice)
            .unwrap_err()
            .contains("unlisted 小蓝书 twice"));
        let missing = "[[service]]\nname = \"微博\"\nsize = 1.0\nwritten = [\"微博\"]\n";
        assert!(load(g, missing)
            .unwrap_err()
            .contains("not in models/services.toml"));
        let bank = "[[service]]\nname = \"工行\"\nsize = 1.0\nwritten = [\"工行\"]\n";
        assert!(load(g, bank)
            .unwrap_err()
            .contains("no posts for kind \"bank\""));
        let unlisted = "[[service]]\nname = \"微信\"\nsize = 1.0\nwritten = [\"微信\"]\n[[unlisted]]\nname = \"微信\"\nkind = \"im\"\nsize = 1.0\nwritten = [\"微信\"]\n";
        assert!(load(g, unlisted)
            .unwrap_err()
            .contains("is in models/services.toml"));
    }

    #[test]
    fn every_written_name_is_an_alias_of_its_service_once_normalised() {
        let ex = benglema_text::Extractor::embedded();
        for s in services() {
            for a in &s.aliases {
                let sig = ex.extract(&format!("{a}崩了"));
                assert_eq!(sig.map(|x| x.service), Some(s.name.clone()), "{a}");
            }
        }
    }
}

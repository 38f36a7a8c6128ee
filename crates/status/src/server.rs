//! The HTTP side: the routes of the status page on axum.
//!
//! - `/` and `/service/NAME`: the two pages (static shells; `assets/app.js` fills them from
//!   the JSON and keeps them live);
//! - `/api/services`, `/api/services/NAME`, `/api/events`: the JSON of [`crate::api`];
//! - `/api/stream`: server-sent events, one `tick` (the board's [`Tick`]) when the board
//!   changes, at most two a second per client (a replay steps minutes in milliseconds);
//! - `/assets/...`: the script, the style sheet and the fallback CJK font, all compiled in.
//!
//! Every response carries a content security policy that allows only this origin (no
//! request leaves the machine, and no inline script runs even if some text were ever
//! rendered as markup) and `nosniff`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;

use crate::api::EventsQuery;
use crate::board::{Board, Tick};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const SERVICE_HTML: &str = include_str!("../assets/service.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// The content security policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; font-src 'self'; connect-src 'self'; \
                       object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// What the pages need besides the board.
#[derive(Clone, Copy)]
pub struct Assets {
    /// A font covering Chinese, served as the pages' fallback face for machines with no
    /// CJK font of their own (the report's embedded subset).
    pub font: &'static [u8],
}

#[derive(Clone)]
struct AppState {
    board: Arc<Board>,
    assets: Assets,
}

/// The status page's routes (merge `/metrics` and `/healthz` in beside them).
pub fn router(board: Arc<Board>, assets: Assets) -> Router {
    let state = AppState { board, assets };
    Router::new()
        .route("/", get(|| async { html(INDEX_HTML) }))
        .route("/service/{name}", get(|| async { html(SERVICE_HTML) }))
        // The script and style sheet are revalidated (a new binary's script must not meet
        // an old page); the font is the same in every version.
        .route(
            "/assets/app.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    APP_JS.as_bytes(),
                    "no-cache",
                )
            }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS.as_bytes(), "no-cache") }),
        )
        .route(
            "/assets/benglema-sans.ttf",
            get(|State(s): State<AppState>| async move {
                asset("font/ttf", s.assets.font, "public, max-age=86400")
            }),
        )
        .route(
            "/api/services",
            get(|State(s): State<AppState>| async move { json(s.board.services()) }),
        )
        .route(
            "/api/services/{name}",
            get(
                |State(s): State<AppState>, Path(name): Path<String>| async move {
                    match s.board.service(&name) {
                        Some(v) => json(v),
                        None => not_found(&format!(
                            "no service {name:?} on the board (no complaints in the last 24 \
                             hours of event time); /api/services lists those there are"
                        )),
                    }
                },
            ),
        )
        .route(
            "/api/events",
            get(
                |State(s): State<AppState>, Query(q): Query<EventsQuery>| async move {
                    json(s.board.events(&q))
                },
            ),
        )
        .route("/api/stream", get(stream))
        .layer(axum::middleware::map_response(secure))
        .with_state(state)
}

async fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn html(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn asset(kind: &'static str, body: &'static [u8], cache: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, cache)],
        body,
    )
        .into_response()
}

/// Refuses requests whose `Host` is not this machine's loopback name (`127.0.0.1`,
/// `localhost`, `[::1]` with `port`): for a page bound to loopback, so that a web page
/// elsewhere cannot read it through a DNS name rebound to 127.0.0.1. Requests without a
/// `Host` (HTTP/1.0 tools) pass.
pub fn loopback_only(router: Router, port: u16) -> Router {
    let allowed: Arc<[String]> = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .map(|h| format!("{h}:{port}"))
        .collect();
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let allowed = allowed.clone();
            async move {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .map(|h| h.to_str().unwrap_or("?").to_ascii_lowercase());
                match host {
                    Some(h) if !allowed.contains(&h) => (
                        StatusCode::MISDIRECTED_REQUEST,
                        format!(
                            "this status page listens on loopback and answers only to \
                             {}; to serve other names, bind --http to another address\n",
                            allowed.join(", ")
                        ),
                    )
                        .into_response(),
                    _ => next.run(req).await,
                }
            }
        },
    ))
}

fn json<T: serde::Serialize>(v: T) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response()
}

fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// At most one tick per client per this interval.
const TICK_EVERY: Duration = Duration::from_millis(500);

async fn stream(State(s): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.board.subscribe();
    let ticks = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first {
            tokio::time::sleep(TICK_EVERY).await;
            // The board is gone: the run is over.
            rx.changed().await.ok()?;
        }
        let t: Tick = *rx.borrow_and_update();
        let data = serde_json::to_string(&t).expect("ticks serialise");
        Some((Ok(Event::default().event("tick").data(data)), (rx, false)))
    });
    Sse::new(ticks).keep_alive(KeepAlive::default())
}

/// Serves `router` on `listener` until the runtime stops.
pub async fn serve(listener: std::net::TcpListener, router: Router) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    axum::serve(listener, router).await
}

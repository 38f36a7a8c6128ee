//! benglema's live status page: what an on-call person looks at while `run` is running.
//!
//! The detect stage of `run` keeps a [`Board`] up to date as it steps (series points,
//! counts with sample posts, event states, the final minute); [`router`] serves it as two
//! pages (`/`: every service worst first; `/service/NAME`: its 24-hour chart, top problems,
//! terms, sample posts and events), their JSON ([`api`]) and server-sent events that keep
//! open pages live. The pages are plain HTML, CSS and script compiled into the binary (no
//! chart library, no CDN: the chart is a few dozen lines of SVG drawing in `assets/app.js`),
//! and every text from posts is set as text, never as markup.

pub mod api;
mod board;
mod server;

pub use board::{Board, BoardOptions, Tick, Writer};
pub use server::{loopback_only, router, serve, Assets, CSP};

//! Turning plans and apply reports into text for people. Rendering is pure: it returns
//! strings, and the caller decides where they go.

pub mod document;
mod markdown;
pub mod routes;
mod text;

pub use markdown::{render_plan_markdown, render_report_markdown};
pub use text::{render_plan, render_report, Style};

pub use crate::printable::visible;

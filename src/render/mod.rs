//! Turning plans and apply reports into text for people. Rendering is pure: it returns
//! strings, and the caller decides where they go.

pub mod document;
mod markdown;
pub mod routes;
mod text;

pub use markdown::{
    render_environment_heading_markdown, render_plan_markdown, render_project_markdown,
    render_report_markdown, EnvironmentPlan, MAX_CHARS,
};
pub use text::{
    render_environment_heading, render_plan, render_project_summary, render_report, Style,
};

pub use crate::printable::visible;

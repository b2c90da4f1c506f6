//! Turning plans and apply reports into text for people. Rendering is pure: it returns
//! strings, and the caller decides where they go.

mod text;

pub use text::{render_plan, render_report, Style};

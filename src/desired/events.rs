//! YAML events one at a time, from libyaml-rs: the parser yaml_serde itself runs, so the
//! events are exactly those the full load would see.
//!
//! yaml_serde's loader keeps every event of a document before it deserialises any (for its
//! aliases): for a 50,000-agent file that is half a million events and 50 MB held at once,
//! plus the value tree built from them. Reading the events as they come lets the streaming
//! path of [`super::parse`] hold one agent entry at a time. This module only reads events;
//! it judges nothing. Anything it does not pass through plainly (an anchor, an alias, a tag)
//! is [`Event::Unusual`], and a syntax error ends the stream: the caller then leaves the file
//! to the full load, which says what is wrong in its own words.

use std::marker::PhantomData;
use std::mem::MaybeUninit;

use libyaml_rs as sys;

/// One event, reduced to what the streaming path needs.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    /// A scalar without anchor or tag; `plain` when unquoted (its type is then resolved from
    /// its text: `null`, `true`, `12`... are not strings).
    Scalar {
        value: String,
        plain: bool,
    },
    SequenceStart,
    SequenceEnd,
    MappingStart,
    MappingEnd,
    /// An alias, or a node with an anchor or a tag.
    Unusual,
}

/// The events of one text, in order; `None` once the text is exhausted or not valid YAML.
pub(super) struct Events<'input> {
    /// Boxed because libyaml keeps pointers into its parser while it runs: it must not move.
    parser: Box<MaybeUninit<sys::yaml_parser_t>>,
    /// Whether `parser` was initialised (and so must be deleted).
    initialized: bool,
    /// Stops after a syntax error or the stream's end.
    done: bool,
    /// The parser reads the text in place.
    input: PhantomData<&'input [u8]>,
}

impl<'input> Events<'input> {
    pub(super) fn new(text: &'input str) -> Events<'input> {
        let mut events = Events {
            parser: Box::new(MaybeUninit::uninit()),
            initialized: false,
            done: false,
            input: PhantomData,
        };
        let parser = events.parser.as_mut_ptr();
        // SAFETY: `parser` points to memory owned by the box, which lives as long as
        // `events`; libyaml initialises it and reports whether it could. The input is read
        // in place for 'input, which `events` cannot outlive (`PhantomData<&'input [u8]>`).
        unsafe {
            if sys::yaml_parser_initialize(parser).fail {
                events.done = true;
                return events;
            }
            events.initialized = true;
            sys::yaml_parser_set_encoding(parser, sys::YAML_UTF8_ENCODING);
            // usize -> u64 loses nothing on the platforms Rust supports.
            sys::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        }
        events
    }
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let parser = self.parser.as_mut_ptr();
        let mut raw = MaybeUninit::<sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised (`done` is set otherwise) and is used by this
        // struct alone. An event is read only after `yaml_parser_parse` succeeded, which
        // fills it; it is deleted once converted (the conversion copies what it keeps), and
        // its pointers are read only for the kind of event its `type_` says it is.
        unsafe {
            if sys::yaml_parser_parse(parser, raw.as_mut_ptr()).fail {
                self.done = true;
                return None;
            }
            let raw = raw.as_mut_ptr();
            let event = convert(&*raw);
            sys::yaml_event_delete(raw);
            if matches!(event, None | Some(Event::StreamEnd)) {
                self.done = true;
            }
            event
        }
    }
}

/// The event, or `None` for no event (the parser has nothing more).
///
/// # Safety
/// `raw` must be an event that `yaml_parser_parse` filled and that is not yet deleted.
unsafe fn convert(raw: &sys::yaml_event_t) -> Option<Event> {
    Some(match raw.type_ {
        sys::YAML_STREAM_START_EVENT => Event::StreamStart,
        sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
        sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
        sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
        sys::YAML_SCALAR_EVENT => {
            let scalar = raw.data.scalar;
            if !scalar.anchor.is_null() || !scalar.tag.is_null() || scalar.value.is_null() {
                return Some(Event::Unusual);
            }
            let Ok(length) = usize::try_from(scalar.length) else {
                return Some(Event::Unusual);
            };
            let bytes = std::slice::from_raw_parts(scalar.value, length);
            // The input is UTF-8 and libyaml checks it, but a scalar that were not would be
            // judged by the full load, not here.
            let Ok(value) = std::str::from_utf8(bytes) else {
                return Some(Event::Unusual);
            };
            Event::Scalar {
                value: value.to_owned(),
                plain: scalar.style == sys::YAML_PLAIN_SCALAR_STYLE,
            }
        }
        sys::YAML_SEQUENCE_START_EVENT => {
            let start = raw.data.sequence_start;
            if start.anchor.is_null() && start.tag.is_null() {
                Event::SequenceStart
            } else {
                Event::Unusual
            }
        }
        sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
        sys::YAML_MAPPING_START_EVENT => {
            let start = raw.data.mapping_start;
            if start.anchor.is_null() && start.tag.is_null() {
                Event::MappingStart
            } else {
                Event::Unusual
            }
        }
        sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
        sys::YAML_NO_EVENT => return None,
        _ => Event::Unusual,
    })
}

impl Drop for Events<'_> {
    fn drop(&mut self) {
        if self.initialized {
            // SAFETY: initialised in `new`, deleted once, here.
            unsafe { sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> Vec<Event> {
        Events::new(text).collect()
    }

    #[test]
    fn events_come_one_at_a_time_with_scalar_styles() {
        let scalar = |value: &str, plain| Event::Scalar {
            value: value.into(),
            plain,
        };
        assert_eq!(
            events("a: [b, 'c']\n"),
            [
                Event::StreamStart,
                Event::DocumentStart,
                Event::MappingStart,
                scalar("a", true),
                Event::SequenceStart,
                scalar("b", true),
                scalar("c", false),
                Event::SequenceEnd,
                Event::MappingEnd,
                Event::DocumentEnd,
                Event::StreamEnd,
            ]
        );
    }

    #[test]
    fn anchors_aliases_and_tags_are_unusual_and_errors_end_the_stream() {
        let all = events("a: &x b\nc: *x\nd: !!str e\n");
        assert_eq!(
            all.iter().filter(|e| **e == Event::Unusual).count(),
            3,
            "{all:?}"
        );
        let broken = events("a: [\n");
        assert!(!broken.contains(&Event::StreamEnd), "{broken:?}");
    }
}

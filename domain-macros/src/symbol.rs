//! Option names, in one place, so error messages and parsers agree.

pub const PART_OF: &str = "part_of";
pub const STREAM_CATEGORY: &str = "stream_category";
pub const SOURCE_STREAM: &str = "source_stream";
pub const VERSION: &str = "version";
pub const EVENT_SOURCED: &str = "event_sourced";
pub const SNAPSHOT_EVERY: &str = "snapshot_every";
pub const STATES: &str = "states";
pub const RESULT: &str = "result";
pub const SQL: &str = "sql";
pub const WHEN: &str = "when";
pub const BECOME: &str = "become";

pub const MAX_LENGTH: &str = "max_length";
pub const MIN_LENGTH: &str = "min_length";
pub const MIN: &str = "min";
pub const MAX: &str = "max";
pub const DEFAULT: &str = "default";
pub const CHOICES: &str = "choices";
pub const ALLOW_BLANK: &str = "allow_blank";

/// Field-level marker attributes.
pub const FIELD: &str = "field";
pub const IDENTIFIER: &str = "identifier";
pub const HAS_MANY: &str = "has_many";
pub const HAS_ONE: &str = "has_one";
pub const HANDLE: &str = "handle";
pub const APPLY: &str = "apply";
pub const ON_COMMAND: &str = "on_command";
pub const ON_QUERY: &str = "on_query";
pub const REACT: &str = "react";
pub const INSTANCE: &str = "instance";

/// The handled-type spelling that matches every event of the category.
pub const ANY: &str = "$any";
/// The category spelling that matches every category.
pub const ALL: &str = "$all";

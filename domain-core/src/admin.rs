//! Operator commands for a running system: dead letters, failed submitted commands and the
//! subscriptions' positions, from the shell.
//!
//! Retrying a dead letter runs its handler, so the commands run inside a binary of your own that
//! opens your domain (the handlers are compiled into it), and hands its arguments to [`main`]:
//!
//! ```rust,no_run
//! use domain_core::Domain;
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://shop.db".into());
//!     match Domain::builder("Shop").database(&url).open().await {
//!         Ok(domain) => domain_core::admin::main(&domain).await,
//!         Err(error) => {
//!             eprintln!("opening the domain: {error}");
//!             std::process::ExitCode::FAILURE
//!         }
//!     }
//! }
//! ```
//!
//! Then, for example, `shop-admin dead-letters`, `shop-admin dead-letters show <id>`,
//! `shop-admin dead-letters retry <id>` or `shop-admin dead-letters skip <id> --by ops@example.com
//! --reason "refunded by hand"`. Every listing takes `--json` (one JSON object per line) for
//! scripts. [`USAGE`] lists the commands; each maps to one `Domain` method, with the same
//! guarantees (a retry claims its record first, so two operators retrying at once never run a
//! handler twice).

use std::fmt;
use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use uuid::Uuid;

use crate::model::error::{CommittedOutput, Error};
use crate::runtime::domain::Domain;
use crate::store::{DeliveryState, FailedDelivery, Submission, SubmissionState};

/// What the commands are and take, as `help` prints it.
pub const USAGE: &str = "\
commands:
  dead-letters [list] [--skipped] [--json]      the parked and blocked deliveries (or the skipped)
  dead-letters show <id> [--json]               one record, with its event's payload
  dead-letters retry <id>... | --all            run the handler again (claims the record first)
  dead-letters skip <id> --by <who> --reason <why>
                                                give up on one; what waits behind it is delivered
  dead-letters purge                            delete the skipped records
  submissions [list] [--json]                   submitted commands that failed
  submissions retry <command-id>                submit a failed command again
  subscriptions [--json]                        each event handler's position and lag
  help                                          this text";

/// Why a command did not do its work.
#[derive(Debug)]
pub enum AdminError {
    /// The arguments are not a command: what is wrong (the caller prints [`USAGE`] with it).
    Usage(String),
    /// The domain refused or failed (a record another operator claimed, a handler that failed
    /// again, an unreachable database).
    Failed(Error),
    /// The answer could not be written.
    Output(std::io::Error),
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdminError::Usage(problem) => write!(f, "{problem}"),
            AdminError::Failed(error) => write!(f, "{error}"),
            AdminError::Output(error) => write!(f, "writing the answer: {error}"),
        }
    }
}

impl std::error::Error for AdminError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdminError::Usage(_) => None,
            AdminError::Failed(error) => Some(error),
            AdminError::Output(error) => Some(error),
        }
    }
}

impl From<Error> for AdminError {
    fn from(error: Error) -> Self {
        AdminError::Failed(error)
    }
}

impl From<std::io::Error> for AdminError {
    fn from(error: std::io::Error) -> Self {
        AdminError::Output(error)
    }
}

/// Runs the command in the process's arguments (after the program name) on `domain`: its answer
/// on standard output, a failure on standard error. The exit code is 0 when it did its work,
/// 1 when the domain refused or failed, 2 for arguments that are not a command.
pub async fn main(domain: &Domain) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Written once the command is done: standard output is not held locked across its awaits
    // (a tracing subscriber, or a driver's thread, may write to it meanwhile).
    let mut answer = Vec::new();
    let result = run(domain, &args, &mut answer).await;
    let written = std::io::stdout().write_all(&answer);
    match result.and(written.map_err(AdminError::Output)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(AdminError::Usage(problem)) => {
            eprintln!("{problem}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command (`args` without the program name) on `domain`, writing its answer to `out`.
///
/// ```rust,standalone_crate
/// use domain_core::prelude::*;
///
/// #[aggregate]
/// pub struct Parcel { pub label: String }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let domain = Domain::builder("Post").build()?;
/// let mut out = Vec::new();
/// domain_core::admin::run(&domain, &["dead-letters"], &mut out).await.unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "no dead letters\n");
///
/// let wrong = domain_core::admin::run(&domain, &["dead-letters", "burn"], &mut Vec::new()).await;
/// assert!(matches!(wrong, Err(domain_core::admin::AdminError::Usage(_))));
/// # Ok::<(), domain_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn run(
    domain: &Domain,
    args: &[impl AsRef<str>],
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let (json, args) = take_flag(args, "--json");
    match args.as_slice() {
        [] | ["help" | "--help" | "-h", ..] => writeln!(out, "{USAGE}")?,
        ["dead-letters", rest @ ..] => dead_letters(domain, rest, json, out).await?,
        ["submissions", rest @ ..] => submissions(domain, rest, json, out).await?,
        ["subscriptions"] => subscriptions(domain, json, out)?,
        words => return Err(not_a_command(words)),
    }
    Ok(())
}

async fn dead_letters(
    domain: &Domain,
    args: &[&str],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    match args {
        [] | ["list"] => list(
            &domain.failed_deliveries().await?,
            "dead letters",
            json,
            out,
        ),
        ["--skipped"] | ["list", "--skipped"] => list(
            &domain.skipped_deliveries().await?,
            "skipped deliveries",
            json,
            out,
        ),
        ["show", id] => show(domain, parse_id(id)?, json, out).await,
        ["retry", "--all"] => {
            no_json(json, "dead-letters retry")?;
            let report = domain.retry_failed_deliveries().await;
            if let Some(error) = report.error {
                return Err(error.into());
            }
            writeln!(
                out,
                "{} succeeded, {} still failing, {} claimed by another retrier",
                report.succeeded,
                report.still_failing.len(),
                report.claimed_elsewhere
            )?;
            // The failures are the error's text (standard error), not repeated here.
            if report.still_failing.is_empty() {
                Ok(())
            } else {
                Err(AdminError::Failed(Error::HandlersFailed {
                    failures: report.still_failing,
                    output: CommittedOutput::default(),
                }))
            }
        }
        ["retry", ids @ ..] if !ids.is_empty() => {
            no_json(json, "dead-letters retry")?;
            let ids = ids
                .iter()
                .map(|id| parse_id(id))
                .collect::<Result<Vec<_>, _>>()?;
            // Each one is tried and its outcome written, so that one refusal neither hides
            // what was delivered before it nor stops the ones after it.
            let mut last_error = None;
            for id in ids {
                match domain.retry_delivery(id).await {
                    Ok(()) => writeln!(out, "{id}: delivered")?,
                    Err(error) => {
                        writeln!(out, "{id}: {}", one_line(&error.to_string()))?;
                        last_error = Some(error);
                    }
                }
            }
            last_error.map_or(Ok(()), |error| Err(error.into()))
        }
        ["skip", id, rest @ ..] => {
            no_json(json, "dead-letters skip")?;
            let id = parse_id(id)?;
            let (by, reason) = match rest {
                ["--by", by, "--reason", reason] | ["--reason", reason, "--by", by] => {
                    (*by, *reason)
                }
                _ => {
                    return Err(usage(
                        "`skip` needs `--by <who> --reason <why>`: a skip is kept with both",
                    ));
                }
            };
            for (flag, value) in [("--by", by), ("--reason", reason)] {
                if value.trim().is_empty() || value.starts_with("--") {
                    return Err(usage(format!("`{flag}` needs a value, not `{value}`")));
                }
            }
            domain.skip_delivery(id, by, reason).await?;
            writeln!(out, "{id}: skipped by {by}")?;
            Ok(())
        }
        ["purge"] => {
            no_json(json, "dead-letters purge")?;
            let purged = domain.purge_skipped_deliveries().await?;
            writeln!(out, "{purged} skipped records deleted")?;
            Ok(())
        }
        words => Err(not_a_command(&[&["dead-letters"], words].concat())),
    }
}

/// `dead-letters show <id>`: the record with its event's payload and metadata, whether it is
/// open or skipped.
async fn show(
    domain: &Domain,
    id: Uuid,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    let mut all = domain.failed_deliveries().await?;
    all.extend(domain.skipped_deliveries().await?);
    let record = all
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::NotFound {
            aggregate: "FailedDelivery",
            id: id.to_string(),
        })?;
    let meta = record.event.metadata();
    let mut value = delivery_json(record);
    value["payload"] = record.event.to_json()?;
    value["correlation_id"] = json!(meta.correlation_id);
    value["causation_id"] = json!(meta.causation_id);
    value["recorded_at"] = json!(seconds(meta.timestamp));
    if json {
        writeln!(out, "{value}")?;
    } else {
        let pretty = serde_json::to_string_pretty(&value).map_err(std::io::Error::other)?;
        writeln!(out, "{pretty}")?;
    }
    Ok(())
}

async fn submissions(
    domain: &Domain,
    args: &[&str],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    match args {
        [] | ["list"] => {
            let failed = domain.failed_submissions().await?;
            if failed.is_empty() && !json {
                writeln!(out, "no failed submissions")?;
            }
            for submission in &failed {
                if json {
                    writeln!(out, "{}", submission_json(submission))?;
                } else {
                    writeln!(out, "{}", submission_line(submission))?;
                }
            }
            Ok(())
        }
        ["retry", id] => {
            no_json(json, "submissions retry")?;
            let id = parse_id(id)?;
            domain.retry_submission(id).await?;
            writeln!(out, "{id}: submitted again")?;
            Ok(())
        }
        words => Err(not_a_command(&[&["submissions"], words].concat())),
    }
}

fn subscriptions(domain: &Domain, json: bool, out: &mut dyn Write) -> Result<(), AdminError> {
    let all = domain.subscriptions();
    if all.is_empty() && !json {
        writeln!(
            out,
            "no subscriptions (the in-memory store delivers in sync mode without them)"
        )?;
    }
    for status in all {
        if json {
            let value = json!({
                "handler": status.handler,
                "background": status.background,
                "position": status.position,
                "lag": status.lag,
            });
            writeln!(out, "{value}")?;
        } else {
            let by = if status.background {
                "engine"
            } else {
                "inline"
            };
            writeln!(
                out,
                "{}  at {}, lag {} ({by})",
                status.handler, status.position, status.lag
            )?;
        }
    }
    Ok(())
}

/// Writes `records` one per line, or says there are none (`what`).
fn list(
    records: &[FailedDelivery],
    what: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), AdminError> {
    if records.is_empty() && !json {
        writeln!(out, "no {what}")?;
    }
    for record in records {
        if json {
            writeln!(out, "{}", delivery_json(record))?;
        } else {
            writeln!(out, "{}", delivery_line(record))?;
        }
    }
    Ok(())
}

/// `<id>  parked  <handler>  <Event> at <stream>#<n> (global <g>), <k> attempts: <error>`.
fn delivery_line(record: &FailedDelivery) -> String {
    let meta = record.event.metadata();
    let state = match &record.state {
        DeliveryState::Parked => "parked".to_string(),
        DeliveryState::Blocked { behind } => format!("blocked behind {behind}"),
        DeliveryState::Skipped { by, reason } => format!("skipped by {by} ({reason})"),
    };
    format!(
        "{}  {state}  {}  {} at {}#{} (global {}), {}: {}",
        record.id,
        record.handler,
        meta.type_name,
        meta.stream,
        meta.stream_position,
        meta.global_position,
        attempts(record.attempts),
        one_line(&record.error)
    )
}

fn delivery_json(record: &FailedDelivery) -> serde_json::Value {
    let meta = record.event.metadata();
    let (state, behind, by, reason) = match &record.state {
        DeliveryState::Parked => ("parked", None, None, None),
        DeliveryState::Blocked { behind } => ("blocked", Some(behind.to_string()), None, None),
        DeliveryState::Skipped { by, reason } => {
            ("skipped", None, Some(by.as_str()), Some(reason.as_str()))
        }
    };
    json!({
        "id": record.id,
        "state": state,
        "blocked_behind": behind,
        "skipped_by": by,
        "skip_reason": reason,
        "handler": &*record.handler,
        "event_type": &*meta.type_name,
        "event_id": meta.id,
        "stream": &*meta.stream,
        "stream_position": meta.stream_position,
        "global_position": meta.global_position,
        "attempts": record.attempts,
        "error": record.error,
    })
}

fn submission_line(submission: &Submission) -> String {
    let meta = submission.command.metadata();
    format!(
        "{}  {}  {}  {}: {}",
        meta.id,
        state_name(&submission.state),
        meta.type_name,
        attempts(submission.attempts),
        one_line(submission.last_error.as_deref().unwrap_or("-"))
    )
}

fn submission_json(submission: &Submission) -> serde_json::Value {
    let meta = submission.command.metadata();
    json!({
        "command_id": meta.id,
        "state": state_name(&submission.state),
        "command_type": &*meta.type_name,
        "stream": &*meta.stream,
        "position": submission.command.position(),
        "attempts": submission.attempts,
        "last_error": submission.last_error,
        "payload": submission.command.payload(),
    })
}

fn attempts(count: u32) -> String {
    match count {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

fn state_name(state: &SubmissionState) -> &'static str {
    state.column()
}

/// An error's text on one line of a listing (`show` gives it whole).
fn one_line(text: &str) -> String {
    let line: String = text.lines().collect::<Vec<_>>().join(" / ");
    match line.char_indices().nth(160) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

fn seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

fn parse_id(text: &str) -> Result<Uuid, AdminError> {
    Uuid::parse_str(text).map_err(|_| usage(format!("`{text}` is not a record id (a UUID)")))
}

fn usage(problem: impl Into<String>) -> AdminError {
    AdminError::Usage(problem.into())
}

fn not_a_command(words: &[&str]) -> AdminError {
    usage(format!("`{}` is not a command", words.join(" ")))
}

/// Only listings answer in JSON: a script asking it of another command is told so, rather than
/// handed text it would fail to parse.
fn no_json(json: bool, command: &str) -> Result<(), AdminError> {
    if json {
        return Err(usage(format!(
            "`{command}` has no `--json` answer (listings and `show` have)"
        )));
    }
    Ok(())
}

/// `args` without `flag`, and whether it was there.
fn take_flag<'a>(args: Vec<&'a str>, flag: &str) -> (bool, Vec<&'a str>) {
    let before = args.len();
    let rest: Vec<&str> = args.into_iter().filter(|a| *a != flag).collect();
    (rest.len() != before, rest)
}

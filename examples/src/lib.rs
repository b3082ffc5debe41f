//! Runnable examples: see `examples/`. This library holds what they share.

use domain_core::{Error, Result};

/// `--database <url>` if given (`None` otherwise: `DomainBuilder::open` then reads
/// `DOMAIN_DATABASE_URL`, else keeps everything in memory). Any other argument is a usage error
/// naming the example.
pub fn database_flag(example: &str) -> Result<Option<String>> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => Ok(None),
        (Some("--database"), Some(url)) => Ok(Some(url)),
        _ => Err(Error::rule(format!(
            "usage: {example} [--database <url>]  (sqlite://{example}.db, postgres://user@host/db)"
        ))),
    }
}

/// An example's self-check: `Err` naming `what` when `condition` does not hold, so a broken
/// example fails its run (CI runs every example).
pub fn check(condition: bool, what: &str) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::rule(format!("check failed: {what}")))
    }
}

//! Failpoints: named places on the commit path and the vote-signing path where a test can make
//! the node crash, fail or stall on purpose (the failpoint campaign, docs/reliability.md).
//!
//! Compiled in only with the `failpoints` feature (the tests' build); without it [`hit`] is an
//! empty inline function and a release binary has none. With it, nothing happens unless the
//! environment variable `CONCORDAT_FAILPOINTS` names failpoints:
//!
//! ```text
//! CONCORDAT_FAILPOINTS="commit.before_batch=abort@5,vote.after_persist=sleep:200"
//! ```
//!
//! Each entry is `NAME=ACTION[@N]`: on the N-th time the place is reached (default the first),
//! and for `sleep` every time from then on, the action is taken:
//! - `abort`: the process dies at once (`SIGABRT`, no destructor runs, nothing is flushed), as
//!   with kill -9 at that instant;
//! - `error`: the step fails as if its storage write failed (the node stops with status 70);
//! - `sleep:MS`: the step is delayed.
//!
//! The places ([`POINTS`]) are checked against this list when the variable is read, so a typo
//! fails the node at start instead of testing nothing.

/// Every failpoint, in the order a height reaches them.
pub const POINTS: &[&str] = &[
    // The vote-signing path (node/src/service.rs): the safety state made durable, then the
    // signed message sent.
    "vote.before_persist",
    "vote.after_persist",
    "vote.after_send",
    // The commit path (node/src/core.rs, node/src/rocks.rs): one synced batch per height, then
    // the in-memory tip, mempool and status lists, then the answer to the API.
    "commit.before_batch",
    "commit.batch",
    "commit.after_batch",
    "commit.after_apply",
];

/// Reaches the failpoint `name`: `Err` when a test asked for this step to fail.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &'static str) -> Result<(), String> {
    Ok(())
}

/// Reaches the failpoint `name`: `Err` when a test asked for this step to fail.
#[cfg(feature = "failpoints")]
pub fn hit(name: &'static str) -> Result<(), String> {
    imp::hit(name)
}

/// The failpoints configured by `CONCORDAT_FAILPOINTS`, checked (the node calls this at start
/// so that a wrong name or action stops it at once).
#[cfg(feature = "failpoints")]
pub fn check_config() -> Result<(), String> {
    imp::check()
}

/// Without the `failpoints` feature there is nothing to configure; a set variable is refused so
/// that a campaign run against a binary without failpoints cannot pass by testing nothing.
#[cfg(not(feature = "failpoints"))]
pub fn check_config() -> Result<(), String> {
    match std::env::var("CONCORDAT_FAILPOINTS") {
        Ok(v) if !v.trim().is_empty() => {
            Err("CONCORDAT_FAILPOINTS is set but this binary has no failpoints (build with --features failpoints)".into())
        }
        _ => Ok(()),
    }
}

/// Whether the deliberate defect `name` is switched on (`CONCORDAT_MUTATION`, a comma-separated
/// list): the failpoint campaign's control runs, which must be caught. Always false without the
/// `failpoints` feature.
#[cfg(feature = "failpoints")]
pub fn mutation(name: &str) -> bool {
    static MUTATIONS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    MUTATIONS
        .get_or_init(|| {
            std::env::var("CONCORDAT_MUTATION")
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect()
        })
        .iter()
        .any(|m| m == name)
}

/// Whether the deliberate defect `name` is switched on: never, without the feature.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn mutation(_name: &str) -> bool {
    false
}

#[cfg(feature = "failpoints")]
mod imp {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Action {
        Abort,
        Error,
        Sleep(u64),
    }

    #[derive(Debug)]
    struct Point {
        action: Action,
        at: u64,
        hits: AtomicU64,
    }

    fn parse(spec: &str) -> Result<HashMap<&'static str, (Action, u64)>, String> {
        let mut out = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (name, rest) = entry
                .split_once('=')
                .ok_or_else(|| format!("failpoint {entry:?}: expected NAME=ACTION[@N]"))?;
            let name = super::POINTS
                .iter()
                .copied()
                .find(|p| *p == name.trim())
                .ok_or_else(|| {
                    format!(
                        "unknown failpoint {name:?}; failpoints: {}",
                        super::POINTS.join(", ")
                    )
                })?;
            let (action, at) = match rest.split_once('@') {
                Some((a, n)) => (
                    a,
                    n.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| format!("failpoint {name}: @{n} is not a count from 1"))?,
                ),
                None => (rest, 1),
            };
            let action = match action.trim() {
                "abort" => Action::Abort,
                "error" => Action::Error,
                a => match a.strip_prefix("sleep:").and_then(|ms| ms.parse().ok()) {
                    Some(ms) => Action::Sleep(ms),
                    None => {
                        return Err(format!(
                            "failpoint {name}: action {a:?} is not abort, error or sleep:MS"
                        ))
                    }
                },
            };
            out.insert(name, (action, at));
        }
        Ok(out)
    }

    pub(super) fn check() -> Result<(), String> {
        config().map(|_| ())
    }

    fn config() -> Result<&'static HashMap<&'static str, Point>, String> {
        static CONFIG: OnceLock<Result<HashMap<&'static str, Point>, String>> = OnceLock::new();
        CONFIG
            .get_or_init(|| {
                let spec = std::env::var("CONCORDAT_FAILPOINTS").unwrap_or_default();
                Ok(parse(&spec)?
                    .into_iter()
                    .map(|(name, (action, at))| {
                        (
                            name,
                            Point {
                                action,
                                at,
                                hits: AtomicU64::new(0),
                            },
                        )
                    })
                    .collect())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub(super) fn hit(name: &'static str) -> Result<(), String> {
        debug_assert!(super::POINTS.contains(&name), "unlisted failpoint {name}");
        let Ok(points) = config() else {
            return Ok(());
        };
        let Some(p) = points.get(name) else {
            return Ok(());
        };
        let n = p.hits.fetch_add(1, Ordering::Relaxed) + 1;
        match p.action {
            Action::Abort if n == p.at => {
                eprintln!("failpoint {name}: abort (hit {n})");
                std::process::abort();
            }
            Action::Error if n == p.at => {
                Err(format!("failpoint {name}: injected error (hit {n})"))
            }
            Action::Sleep(ms) if n >= p.at => {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn specs_parse_and_typos_are_refused() {
            let p = parse("commit.before_batch=abort@5, vote.after_persist=sleep:200").expect("ok");
            assert_eq!(p["commit.before_batch"], (Action::Abort, 5));
            assert_eq!(p["vote.after_persist"], (Action::Sleep(200), 1));
            assert_eq!(
                parse("commit.batch=error").expect("ok")["commit.batch"],
                (Action::Error, 1)
            );
            assert!(parse("commit.before_btach=abort").is_err());
            assert!(parse("commit.batch=explode").is_err());
            assert!(parse("commit.batch=abort@0").is_err());
            assert!(parse("commit.batch").is_err());
            assert!(parse("").expect("empty").is_empty());
        }
    }
}

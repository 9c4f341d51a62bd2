//! `main` for every stage: run, print the error chain on failure, and exit with a code a script can
//! test: 0 done, 1 failed, 2 bad command line (clap's), 130 interrupted by Ctrl-C.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether Ctrl-C (or SIGTERM) was received; long loops check it and stop cleanly.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The flag itself, for code that takes an `&AtomicBool`.
pub fn interrupt_flag() -> &'static AtomicBool {
    &INTERRUPTED
}

/// A bad command line found after parsing (a value out of range, flags that cannot go together):
/// exits 2 like clap's own errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Fails with a [`UsageError`] (exit 2) unless `condition` holds.
pub fn usage_ensure(condition: bool, message: impl FnOnce() -> String) -> anyhow::Result<()> {
    if condition {
        Ok(())
    } else {
        Err(UsageError(message()).into())
    }
}

/// Parses the arguments, installs the Ctrl-C handler and runs `run`; never returns.
pub fn main<A: clap::Parser>(run: impl FnOnce(A) -> anyhow::Result<()>) -> ! {
    let args = A::parse();
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    match run(args) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("error: {error:#}");
            let code = if interrupted() {
                130
            } else if error.downcast_ref::<UsageError>().is_some() {
                2
            } else {
                1
            };
            std::process::exit(code);
        }
    }
}

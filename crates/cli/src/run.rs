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

/// Parses the arguments, installs the Ctrl-C handler and runs `run`; never returns.
pub fn main<A: clap::Parser>(run: impl FnOnce(A) -> anyhow::Result<()>) -> ! {
    let args = A::parse();
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    match run(args) {
        Ok(()) => std::process::exit(0),
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(if interrupted() { 130 } else { 1 });
        }
    }
}

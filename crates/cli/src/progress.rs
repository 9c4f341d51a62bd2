//! One progress-bar style for every long stage: what it is doing, how far, how fast, and when it
//! will be done. Hidden under `--quiet`; indicatif also hides it when stderr is not a terminal, so
//! logs and pipes stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar counting `total` `unit`s (e.g. "photos", "frames") for `task` (e.g. "encoding").
/// `total` may be unknown (a spinner with a count).
pub fn bar(task: &str, unit: &str, total: Option<u64>, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
    let template = if total.is_some() {
        format!("{{spinner}} {task} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}  {{wide_msg}}")
    } else {
        format!("{{spinner}} {task} {{pos}} {unit}  {{per_sec}}  {{wide_msg}}")
    };
    bar.set_style(
        ProgressStyle::with_template(&template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

#[cfg(test)]
mod tests {
    #[test]
    fn quiet_bars_are_hidden() {
        assert!(super::bar("encoding", "photos", Some(3), true).is_hidden());
    }
}

//! CSV cells the way spreadsheets read them safely: every text cell quoted (a name may hold a
//! comma or a quote), and a cell that starts like a formula (`=`, `+`, `-`, `@`, or a tab or
//! carriage return before one) prefixed with `'`, so a person folder named `=2+5` is shown as
//! text, never run (OWASP's advice on CSV injection).

/// One text cell, quoted.
pub fn text(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_quoted_and_formulas_are_defused() {
        assert_eq!(text("Nayeon"), "\"Nayeon\"");
        assert_eq!(text("Na,\"yeon\""), "\"Na,\"\"yeon\"\"\"");
        assert_eq!(text("=2+5"), "\"'=2+5\"");
        for leader in ["+1", "-1", "@SUM(A1)", "\t=1"] {
            assert!(text(leader).starts_with("\"'"), "{leader}");
        }
        assert_eq!(text("나연"), "\"나연\"");
    }
}

//! The little HTML the sources need: every entity decoded (named, decimal, hex: Bing escapes the
//! JSON in its attributes, Wikimedia's credit lines are HTML), attributes found wherever the
//! markup puts them, and tags stripped from credit lines.

/// Decodes every HTML5 character reference (`&quot;`, `&#34;`, `&#x22;`, `&eacute;`, …).
pub fn decode_entities(text: &str) -> String {
    html_escape::decode_html_entities(text).into_owned()
}

/// The values of every `name="…"` (or `name='…'`) attribute in `html`, decoded. The attribute must
/// follow whitespace (a space, a tab or a line break), so `m=` never matches inside `item=`.
pub fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let bytes = html.as_bytes();
    let mut values = Vec::new();
    let mut from = 0;
    while let Some(found) = html[from..].find(name) {
        let start = from + found;
        from = start + name.len();
        let preceded_by_space = start > 0 && bytes[start - 1].is_ascii_whitespace();
        if !preceded_by_space {
            continue;
        }
        let mut cursor = from;
        while cursor < bytes.len() && bytes[cursor].is_ascii_whitespace() {
            cursor += 1;
        }
        if bytes.get(cursor) != Some(&b'=') {
            continue;
        }
        cursor += 1;
        while cursor < bytes.len() && bytes[cursor].is_ascii_whitespace() {
            cursor += 1;
        }
        let Some(&quote) = bytes.get(cursor) else {
            break;
        };
        if quote != b'"' && quote != b'\'' {
            continue;
        }
        let value_start = cursor + 1;
        let Some(length) = html[value_start..].find(quote as char) else {
            break;
        };
        values.push(decode_entities(&html[value_start..value_start + length]));
        from = value_start + length + 1;
    }
    values
}

/// Plain text from an HTML fragment (a credit line such as `<a href="…">Jane</a>`): tags removed,
/// entities decoded, white space collapsed.
pub fn plain_text(fragment: &str) -> String {
    let mut text = String::with_capacity(fragment.len());
    let mut rest = fragment;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close]
            .trim_matches('/')
            .trim()
            .to_ascii_lowercase();
        // Line-breaking tags separate words; inline ones (`<a>`, `<i>`) do not.
        if ["br", "p", "div", "li", "tr", "td"]
            .iter()
            .any(|block| tag == *block || tag.starts_with(&format!("{block} ")))
        {
            text.push(' ');
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    decode_entities(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_of_every_kind() {
        assert_eq!(
            decode_entities("&quot;&#34;&#x22;&#X22;&amp;&eacute;&hellip;&#128512;&bogus;"),
            "\"\"\"\"&é…😀&bogus;"
        );
    }

    #[test]
    fn attributes_after_any_white_space() {
        let html = "<a class=\"iusc\"\tm=\"{&#34;murl&#34;:&#34;x&#34;}\" item=\"no\"\n m='{&quot;a&quot;:1}'>";
        assert_eq!(
            attribute_values(html, "m"),
            vec!["{\"murl\":\"x\"}".to_string(), "{\"a\":1}".to_string()]
        );
        assert!(attribute_values("<a m=unquoted>", "m").is_empty());
        assert!(attribute_values("<a m=\"never closed", "m").is_empty());
    }

    #[test]
    fn credit_lines_lose_their_markup() {
        assert_eq!(
            plain_text("<a href=\"//commons.wikimedia.org/wiki/User:Jane\" title=\"User:Jane\">Jane&nbsp;Doe</a>\n(<i>Dispatch</i>)<br/>2019"),
            "Jane Doe (Dispatch) 2019"
        );
    }
}

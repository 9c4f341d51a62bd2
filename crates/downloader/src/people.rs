//! Who to download: a folder name, the search query, and (optionally) the person's Wikidata item,
//! from `-k` or from a `--people` file whose lines read `Nayeon = "TWICE Nayeon" @Q…`.

use thiserror::Error;

/// A person to download.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// The folder under the data folder, and the person's name in every later stage.
    pub folder: String,
    /// What is typed into image search engines.
    pub query: String,
    /// The Wikidata item, when the user gave it (otherwise it is looked up).
    pub item: Option<String>,
}

#[derive(Debug, Error, PartialEq)]
pub enum PeopleError {
    #[error("line {line}: expected `Name`, `Name = \"search query\"` or `Name = \"query\" @Q123`, got {text:?}")]
    Malformed { line: usize, text: String },
    #[error("line {line}: {item:?} is not a Wikidata item id (an item id looks like Q123; find it on wikidata.org)")]
    BadItem { line: usize, item: String },
    #[error("{name:?} cannot be a person's folder name (no slash, no leading dot, no line break)")]
    BadFolder { name: String },
    #[error("no people in the list")]
    Empty,
}

impl Person {
    /// The person `-k QUERY [--dir-name NAME]` asks for.
    pub fn from_keyword(query: &str, folder: Option<&str>) -> Result<Person, PeopleError> {
        let folder = folder.unwrap_or(query).trim().to_string();
        check_folder(&folder)?;
        Ok(Person {
            folder,
            query: query.trim().to_string(),
            item: None,
        })
    }

    /// The name to look the person up by: the folder name when the query contains it
    /// (`Nayeon` in `TWICE Nayeon`), else the whole query.
    pub fn name(&self) -> &str {
        if contains_words(&self.query, &self.folder) {
            &self.folder
        } else {
            &self.query
        }
    }

    /// The query's words that are not the person's name: usually the group (`TWICE`).
    pub fn context_words(&self) -> Vec<String> {
        let name: Vec<String> = words(self.name());
        words(&self.query)
            .into_iter()
            .filter(|w| !name.contains(w))
            .collect()
    }
}

/// Lower-case words, split on anything that is not a letter or digit.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_words(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (words(haystack), words(needle));
    !needle.is_empty() && needle.iter().all(|w| haystack.contains(w))
}

fn check_folder(name: &str) -> Result<(), PeopleError> {
    if name.is_empty()
        || name.contains(['/', '\\'])
        || name.starts_with('.')
        || name.chars().any(char::is_control)
    {
        return Err(PeopleError::BadFolder { name: name.into() });
    }
    Ok(())
}

/// Parses a `--people` file: `Name`, `Name = query` (the query may be quoted), optionally followed
/// by `@Q123`; blank lines and `#` comments are skipped.
pub fn parse_people(text: &str) -> Result<Vec<Person>, PeopleError> {
    let mut people = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let malformed = || PeopleError::Malformed {
            line: line_number,
            text: line.to_string(),
        };
        // The item id, if any, is the last token and starts with `@`.
        let (rest, item) = match line.rsplit_once('@') {
            Some((rest, item)) if !item.contains('"') => {
                let item = item.trim();
                let valid = item.len() > 1
                    && item.starts_with(['Q', 'q'])
                    && item[1..].chars().all(|c| c.is_ascii_digit());
                if !valid {
                    return Err(PeopleError::BadItem {
                        line: line_number,
                        item: item.into(),
                    });
                }
                (rest.trim(), Some(format!("Q{}", &item[1..])))
            }
            _ => (line, None),
        };
        let (name, query) = match rest.split_once('=') {
            Some((name, query)) => (name.trim(), query.trim()),
            None => (rest, rest),
        };
        let query = match query.strip_prefix('"') {
            Some(inner) => inner.strip_suffix('"').ok_or_else(malformed)?.trim(),
            None => query,
        };
        if name.is_empty() || query.is_empty() || query.contains('"') {
            return Err(malformed());
        }
        check_folder(name).map_err(|_| PeopleError::BadFolder { name: name.into() })?;
        people.push(Person {
            folder: name.to_string(),
            query: query.to_string(),
            item,
        });
    }
    if people.is_empty() {
        return Err(PeopleError::Empty);
    }
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_lists_with_and_without_items() {
        let people = parse_people(
            "# TWICE\nNayeon\nJihyo = \"TWICE Jihyo\" @Q20145\n\n나연 = 임나연\nMina = TWICE Mina @q42\n",
        )
        .unwrap();
        let person = |folder: &str, query: &str, item: Option<&str>| Person {
            folder: folder.into(),
            query: query.into(),
            item: item.map(String::from),
        };
        assert_eq!(
            people,
            vec![
                person("Nayeon", "Nayeon", None),
                person("Jihyo", "TWICE Jihyo", Some("Q20145")),
                person("나연", "임나연", None),
                person("Mina", "TWICE Mina", Some("Q42")),
            ]
        );
        assert_eq!(
            parse_people("Jihyo = \"TWICE Jihyo\" @P18"),
            Err(PeopleError::BadItem {
                line: 1,
                item: "P18".into()
            })
        );
        assert!(matches!(
            parse_people("Jihyo = \"TWICE Jihyo"),
            Err(PeopleError::Malformed { line: 1, .. })
        ));
        assert!(matches!(
            parse_people("../etc = x"),
            Err(PeopleError::BadFolder { .. })
        ));
        assert_eq!(parse_people("# nobody\n"), Err(PeopleError::Empty));
    }

    #[test]
    fn the_name_and_the_group_words_come_from_the_query() {
        let nayeon = Person::from_keyword("TWICE Nayeon", Some("Nayeon")).unwrap();
        assert_eq!(nayeon.name(), "Nayeon");
        assert_eq!(nayeon.context_words(), vec!["twice"]);
        let whole = Person::from_keyword("Im Na-yeon", None).unwrap();
        assert_eq!(whole.name(), "Im Na-yeon");
        assert!(whole.context_words().is_empty());
        let renamed = Person::from_keyword("임나연", Some("Nayeon")).unwrap();
        assert_eq!(renamed.name(), "임나연");
        assert!(Person::from_keyword("a/b", None).is_err());
    }
}

//! Who the person is: their Wikidata item, found with `wbsearchentities` and chosen among the
//! namesakes by membership of the group the query names (P463 "member of", P361 "part of"), or
//! given in the people file. From it: P18 (a portrait, the anchor) and P373 (their Commons
//! category). No item id or category name is written into this code.
//! API: www.wikidata.org/w/api.php?action=help&modules=wbsearchentities, …=wbgetentities.

use serde_json::Value;

use super::mediawiki::Api;
use super::SourceError;
use crate::people::{words, Person};

/// A person's Wikidata item and what the downloader uses from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub item: String,
    pub label: String,
    pub description: Option<String>,
    /// P18: the file name of a portrait on Commons.
    pub portrait: Option<String>,
    /// P373: the person's Commons category (without `Category:`).
    pub category: Option<String>,
    /// Labels (and aliases) of the groups the person is a member or part of.
    pub groups: Vec<String>,
}

/// How a lookup ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found(Identity),
    /// No fitting item; why, for the summary.
    NotFound(String),
}

/// Namesakes looked at per search.
const CANDIDATES: usize = 10;
/// Languages the name is searched in, in order: English labels first; names written in Hangul,
/// kana or Han characters also match their own language's labels.
const LANGUAGES: &[&str] = &["en", "ko", "ja", "zh"];

/// Finds the person's item (or reads the one the people file gives).
pub fn look_up(api: &Api, person: &Person) -> Result<Lookup, SourceError> {
    if let Some(item) = &person.item {
        let entities = get_entities(
            api,
            std::slice::from_ref(item),
            "labels|descriptions|claims",
        )?;
        return Ok(match entities.get(item) {
            Some(entity) if entity.get("missing").is_none() => {
                Lookup::Found(identity(api, item, entity)?)
            }
            _ => Lookup::NotFound(format!(
                "Wikidata has no item {item} (given in the people file)"
            )),
        });
    }
    let name = person.name();
    let context = person.context_words();
    let mut candidates: Vec<String> = Vec::new();
    let ascii = name.is_ascii();
    for language in LANGUAGES
        .iter()
        .take(if ascii { 1 } else { LANGUAGES.len() })
    {
        let answer = api.get(&[
            ("action", "wbsearchentities"),
            ("search", name),
            ("language", language),
            ("uselang", "en"),
            ("type", "item"),
            ("limit", &CANDIDATES.to_string()),
        ])?;
        let found = answer
            .get("search")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Shape {
                service: api.service,
                message: "wbsearchentities without `search`".into(),
            })?;
        for hit in found {
            if let Some(id) = hit.get("id").and_then(Value::as_str) {
                if !candidates.iter().any(|c| c == id) {
                    candidates.push(id.to_string());
                }
            }
        }
        if !candidates.is_empty() {
            break;
        }
    }
    if candidates.is_empty() {
        return Ok(Lookup::NotFound(format!(
            "Wikidata has no item named {name:?}"
        )));
    }
    let entities = get_entities(api, &candidates, "labels|descriptions|claims")?;
    let mut first_person = None;
    for id in &candidates {
        let Some(entity) = entities.get(id) else {
            continue;
        };
        let is_person =
            !claim_values(entity, "P569").is_empty() || claim_string(entity, "P18").is_some();
        if context.is_empty() {
            if is_person {
                return Ok(Lookup::Found(identity(api, id, entity)?));
            }
            continue;
        }
        let identity = identity(api, id, entity)?;
        let described = identity
            .description
            .as_deref()
            .is_some_and(|d| mentions(&context, d));
        if identity.groups.iter().any(|g| mentions(&context, g)) || (described && is_person) {
            return Ok(Lookup::Found(identity));
        }
        if is_person && first_person.is_none() {
            first_person = Some(identity.label.clone());
        }
    }
    let group = context.join(" ");
    Ok(Lookup::NotFound(match first_person {
        Some(label) => format!(
            "no Wikidata item named {name:?} is a member of {group:?} (the first person found was \
             {label}); give the item in a people file (Name = \"query\" @Q…) if it exists"
        ),
        None => format!("no Wikidata item named {name:?} is a person in {group:?}"),
    }))
}

/// Whether every word of `label` is one of the query's context words (the group `Twice` in
/// `TWICE Nayeon`).
fn mentions(context: &[String], label: &str) -> bool {
    let label_words = words(label);
    if label_words.is_empty() {
        return false;
    }
    label_words.iter().all(|w| context.contains(w))
        || context.iter().all(|c| label_words.contains(c))
}

pub(crate) fn get_entities(
    api: &Api,
    ids: &[String],
    props: &str,
) -> Result<serde_json::Map<String, Value>, SourceError> {
    let ids = ids.join("|");
    let answer = api.get(&[
        ("action", "wbgetentities"),
        ("ids", &ids),
        ("props", props),
        ("languages", "en"),
        ("languagefallback", "1"),
    ])?;
    answer
        .get("entities")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| SourceError::Shape {
            service: api.service,
            message: "wbgetentities without `entities`".into(),
        })
}

fn identity(api: &Api, id: &str, entity: &Value) -> Result<Identity, SourceError> {
    let group_ids: Vec<String> = ["P463", "P361"]
        .iter()
        .flat_map(|property| claim_values(entity, property))
        .filter_map(|value| value.get("id").and_then(Value::as_str).map(String::from))
        .collect();
    let mut groups = Vec::new();
    if !group_ids.is_empty() {
        let entities = get_entities(api, &group_ids, "labels|aliases")?;
        for group in entities.values() {
            groups.extend(text_of(group.get("labels")));
            if let Some(aliases) = group
                .get("aliases")
                .and_then(|a| a.get("en"))
                .and_then(Value::as_array)
            {
                groups.extend(
                    aliases
                        .iter()
                        .filter_map(|a| a.get("value").and_then(Value::as_str).map(String::from)),
                );
            }
        }
    }
    Ok(Identity {
        item: id.to_string(),
        label: text_of(entity.get("labels")).unwrap_or_else(|| id.to_string()),
        description: text_of(entity.get("descriptions")),
        portrait: claim_string(entity, "P18"),
        category: claim_string(entity, "P373"),
        groups,
    })
}

/// The English (or fallback) text of a `labels`/`descriptions` object.
pub(crate) fn text_of(terms: Option<&Value>) -> Option<String> {
    let terms = terms?.as_object()?;
    terms
        .get("en")
        .or_else(|| terms.values().next())
        .and_then(|t| t.get("value"))
        .and_then(Value::as_str)
        .map(String::from)
}

/// A property's values, best rank first, deprecated ones left out.
pub(crate) fn claim_values<'a>(entity: &'a Value, property: &str) -> Vec<&'a Value> {
    let Some(claims) = entity
        .get("claims")
        .and_then(|c| c.get(property))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let rank = |claim: &Value| match claim.get("rank").and_then(Value::as_str) {
        Some("preferred") => 0,
        Some("deprecated") => 2,
        _ => 1,
    };
    let mut ranked: Vec<&Value> = claims.iter().filter(|c| rank(c) < 2).collect();
    ranked.sort_by_key(|c| rank(c));
    ranked
        .into_iter()
        .filter_map(|c| c.get("mainsnak")?.get("datavalue")?.get("value"))
        .collect()
}

fn claim_string(entity: &Value, property: &str) -> Option<String> {
    claim_values(entity, property)
        .into_iter()
        .find_map(|v| v.as_str().map(String::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_best_rank_first() {
        let entity: Value = serde_json::from_str(
            r#"{"claims":{"P18":[
                {"rank":"deprecated","mainsnak":{"datavalue":{"value":"Old.jpg"}}},
                {"rank":"normal","mainsnak":{"datavalue":{"value":"Normal.jpg"}}},
                {"rank":"preferred","mainsnak":{"datavalue":{"value":"Best.jpg"}}},
                {"rank":"normal","mainsnak":{"snaktype":"novalue"}}]}}"#,
        )
        .unwrap();
        assert_eq!(claim_string(&entity, "P18").as_deref(), Some("Best.jpg"));
        assert_eq!(claim_values(&entity, "P18").len(), 2);
        assert!(claim_string(&entity, "P373").is_none());
    }

    #[test]
    fn a_group_is_mentioned_when_its_words_are_in_the_query() {
        let context = vec!["twice".to_string()];
        assert!(mentions(&context, "Twice"));
        assert!(mentions(&context, "TWICE"));
        assert!(!mentions(&context, "Blackpink"));
        assert!(!mentions(&context, ""));
        assert!(mentions(
            &["girls".into(), "generation".into()],
            "Girls' Generation"
        ));
    }
}

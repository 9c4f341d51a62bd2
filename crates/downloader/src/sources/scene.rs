//! People of the same scene who are not members: the members of other groups like the group, for
//! `data/.strangers/` (the trainer sets its bar on them). From the group's Wikidata item: what it
//! is (P31, e.g. girl group) and its genres (P136, e.g. K-pop); Wikidata's search finds other
//! groups with the same statements (`haswbstatement:`), and each group's members are its "has
//! part(s)" (P527). No group, genre or person is written into this code.
//! API: www.wikidata.org/w/api.php?action=help&modules=query%2Bsearch (CirrusSearch keywords:
//! www.mediawiki.org/wiki/Help:Extension:WikibaseCirrusSearch).

use serde_json::Value;

use super::mediawiki::Api;
use super::wikidata::{claim_values, get_entities, text_of};
use super::SourceError;

/// A group and what finding its peers needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub item: String,
    pub label: String,
    /// P527: its members' items.
    pub members: Vec<String>,
    /// P31 and P136 items.
    pub kinds: Vec<String>,
    pub genres: Vec<String>,
}

/// Someone who is not a member.
#[derive(Debug, Clone, PartialEq)]
pub struct Stranger {
    pub item: String,
    pub label: String,
    /// The label of their group.
    pub group: String,
}

/// Groups looked at per search.
const GROUPS_PER_SEARCH: usize = 50;
/// Items per `wbgetentities` call (the API's limit).
const ENTITIES_PER_CALL: usize = 50;

fn item_ids(entity: &Value, property: &str) -> Vec<String> {
    claim_values(entity, property)
        .into_iter()
        .filter_map(|v| v.get("id").and_then(Value::as_str).map(String::from))
        .collect()
}

fn entities(
    api: &Api,
    ids: &[String],
    props: &str,
) -> Result<serde_json::Map<String, Value>, SourceError> {
    let mut all = serde_json::Map::new();
    for chunk in ids.chunks(ENTITIES_PER_CALL) {
        all.extend(get_entities(api, chunk, props)?);
    }
    Ok(all)
}

/// The group called `name`: among the items the name finds, the first that has members.
pub fn find_group(api: &Api, name: &str) -> Result<Option<Group>, SourceError> {
    let answer = api.get(&[
        ("action", "wbsearchentities"),
        ("search", name),
        ("language", "en"),
        ("uselang", "en"),
        ("type", "item"),
        ("limit", "10"),
    ])?;
    let candidates: Vec<String> = answer
        .get("search")
        .and_then(Value::as_array)
        .ok_or_else(|| SourceError::Shape {
            service: api.service,
            message: "wbsearchentities without `search`".into(),
        })?
        .iter()
        .filter_map(|hit| hit.get("id").and_then(Value::as_str).map(String::from))
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let found = entities(api, &candidates, "labels|claims")?;
    Ok(candidates.iter().find_map(|id| {
        let entity = found.get(id)?;
        let members = item_ids(entity, "P527");
        (members.len() >= 2).then(|| Group {
            item: id.clone(),
            label: text_of(entity.get("labels")).unwrap_or_else(|| id.clone()),
            members,
            kinds: item_ids(entity, "P31"),
            genres: item_ids(entity, "P136"),
        })
    }))
}

/// Up to `wanted` members of other groups like `group` (one from each group in turn, so the
/// strangers are many faces, not one group), none of them a member of `group`.
pub fn other_people(api: &Api, group: &Group, wanted: usize) -> Result<Vec<Stranger>, SourceError> {
    // The same kind and genre if any such group exists, else the same genre.
    let mut queries: Vec<String> = Vec::new();
    if let (Some(kind), Some(genre)) = (group.kinds.first(), group.genres.first()) {
        queries.push(format!(
            "haswbstatement:P31={kind} haswbstatement:P136={genre}"
        ));
    }
    if let Some(genre) = group.genres.first() {
        queries.push(format!("haswbstatement:P136={genre} haswbstatement:P527"));
    }
    let mut groups: Vec<String> = Vec::new();
    for query in &queries {
        let answer = api.get(&[
            ("action", "query"),
            ("list", "search"),
            ("srsearch", query),
            ("srnamespace", "0"),
            ("srlimit", &GROUPS_PER_SEARCH.to_string()),
        ])?;
        let hits = answer
            .get("query")
            .and_then(|q| q.get("search"))
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::Shape {
                service: api.service,
                message: "search without `query.search`".into(),
            })?;
        for title in hits
            .iter()
            .filter_map(|h| h.get("title").and_then(Value::as_str))
        {
            if title != group.item && !groups.iter().any(|g| g == title) {
                groups.push(title.to_string());
            }
        }
        if groups.len() >= wanted {
            break;
        }
    }
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let found = entities(api, &groups, "labels|claims")?;
    let rosters: Vec<(String, Vec<String>)> = groups
        .iter()
        .filter_map(|id| {
            let entity = found.get(id)?;
            let label = text_of(entity.get("labels")).unwrap_or_else(|| id.clone());
            let members: Vec<String> = item_ids(entity, "P527")
                .into_iter()
                .filter(|m| !group.members.contains(m))
                .collect();
            (!members.is_empty()).then_some((label, members))
        })
        .collect();
    // One from each group in turn.
    let mut chosen: Vec<(String, String)> = Vec::new();
    for round in 0.. {
        let before = chosen.len();
        for (label, members) in &rosters {
            if chosen.len() >= wanted {
                break;
            }
            if let Some(member) = members.get(round) {
                if !chosen.iter().any(|(m, _)| m == member) {
                    chosen.push((member.clone(), label.clone()));
                }
            }
        }
        if chosen.len() >= wanted || chosen.len() == before {
            break;
        }
    }
    let ids: Vec<String> = chosen.iter().map(|(id, _)| id.clone()).collect();
    let people = entities(api, &ids, "labels")?;
    Ok(chosen
        .into_iter()
        .filter_map(|(item, group)| {
            let label = text_of(people.get(&item)?.get("labels"))?;
            Some(Stranger { item, label, group })
        })
        .collect())
}

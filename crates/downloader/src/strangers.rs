//! Who the strangers are: members of other groups of the same scene ([`crate::sources::scene`]),
//! as people to download a few photos each of into `data/.strangers/<name>/`, by their Wikidata
//! item, through the same sources and anchor filter as the members.

use crate::collect::{api, Shared};
use crate::people::Person;
use crate::sources::scene;
use crate::sources::SourceError;

/// The folder under the data folder that holds the strangers (the encoder's default).
pub const FOLDER: &str = facecore::dataset::STRANGERS_FOLDER;

/// Who to download as strangers, and what the lookup found worth saying.
#[derive(Debug, Default)]
pub struct Plan {
    pub people: Vec<Person>,
    pub notes: Vec<String>,
}

/// Up to `wanted` members of groups like `group_name`; nobody named like one of `members`.
pub fn plan(
    context: &Shared,
    group_name: &str,
    wanted: usize,
    members: &[Person],
) -> Result<Plan, SourceError> {
    let api = api(context, true);
    let mut plan = Plan::default();
    let Some(group) = scene::find_group(&api, group_name)? else {
        plan.notes.push(format!(
            "Wikidata has no group named {group_name:?} with members; no strangers to download \
             (put photos of other groups' idols in data/{FOLDER}/<name>/ yourself, or give --group)"
        ));
        return Ok(plan);
    };
    let others = scene::other_people(&api, &group, wanted)?;
    if others.is_empty() {
        plan.notes.push(format!(
            "Wikidata lists no other group like {} ({}); no strangers to download",
            group.label, group.item
        ));
    }
    let mut groups: Vec<&str> = others.iter().map(|s| s.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    if !others.is_empty() {
        plan.notes.push(format!(
            "{} people of {} other groups like {} ({}): {}",
            others.len(),
            groups.len(),
            group.label,
            group.item,
            groups.join(", ")
        ));
    }
    for stranger in others {
        let taken = members
            .iter()
            .any(|m| m.folder.eq_ignore_ascii_case(&stranger.label));
        let query = format!("{} {}", stranger.group, stranger.label);
        match Person::from_keyword(&query, Some(&stranger.label)) {
            Ok(person) if !taken => plan.people.push(Person {
                item: Some(stranger.item),
                ..person
            }),
            _ => plan.notes.push(format!(
                "{} ({}) is left out: the name cannot be a folder here",
                stranger.label, stranger.item
            )),
        }
    }
    Ok(plan)
}

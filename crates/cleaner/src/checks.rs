//! Checks across files: exact and near duplicates (inside a person's folder and across people),
//! and photos that look more like another person than like the rest of their folder.

use std::collections::HashMap;

use crate::inspect::Inspection;

/// Difference hashes at most this many bits apart are the same picture (resized or recompressed).
pub const NEAR_DUPLICATE_BITS: u32 = 6;
/// Photos of a person needed before their folder can vouch for (or against) a photo.
pub const MIN_PHOTOS_FOR_IDENTITY: usize = 3;
/// A photo is flagged when another person's photos are closer than its own by this margin.
pub const WRONG_PERSON_MARGIN: f32 = 0.02;

/// A finding about file `index`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub index: usize,
    pub kind: FindingKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FindingKind {
    /// Same bytes as an earlier file of the same person: quarantined.
    DuplicateInFolder {
        of: String,
    },
    /// Same bytes filed under another person: label noise, flagged for review.
    DuplicateAcrossPeople {
        of: String,
    },
    NearDuplicate {
        of: String,
        bits: u32,
    },
    LooksLikeAnotherPerson {
        person: String,
        own: f32,
        other: f32,
    },
}

/// Exact duplicates by SHA-256 and near duplicates by difference hash.
pub fn duplicates(files: &[Inspection]) -> Vec<Finding> {
    let mut findings = Vec::new();
    // The first copy of each photo anywhere, and the first copy in each person's folder: a second
    // copy in the same folder is a duplicate there even when another person also has the photo.
    let mut first_anywhere: HashMap<&str, usize> = HashMap::new();
    let mut first_in_folder: HashMap<(&str, &str), usize> = HashMap::new();
    let mut exact = vec![false; files.len()];
    for (i, file) in files.iter().enumerate() {
        let (sha, person) = (file.sha256(), file.candidate.person.as_str());
        if sha.is_empty() {
            continue;
        }
        let kind = if let Some(&first) = first_in_folder.get(&(person, sha)) {
            Some(FindingKind::DuplicateInFolder {
                of: files[first].candidate.relative.clone(),
            })
        } else {
            first_in_folder.insert((person, sha), i);
            first_anywhere
                .get(sha)
                .map(|&first| FindingKind::DuplicateAcrossPeople {
                    of: files[first].candidate.relative.clone(),
                })
        };
        first_anywhere.entry(sha).or_insert(i);
        if let Some(kind) = kind {
            exact[i] = true;
            findings.push(Finding { index: i, kind });
        }
    }
    let hashes: Vec<(usize, u64)> = files
        .iter()
        .enumerate()
        .filter(|(i, _)| !exact[*i])
        .filter_map(|(i, f)| f.facts().map(|facts| (i, facts.dhash)))
        .collect();
    for (a, &(i, hash_i)) in hashes.iter().enumerate() {
        // Each photo is reported once, against the first earlier photo it matches.
        if let Some(&(j, hash_j)) = hashes[..a]
            .iter()
            .find(|(_, h)| (h ^ hash_i).count_ones() <= NEAR_DUPLICATE_BITS)
        {
            findings.push(Finding {
                index: i,
                kind: FindingKind::NearDuplicate {
                    of: files[j].candidate.relative.clone(),
                    bits: (hash_i ^ hash_j).count_ones(),
                },
            });
        }
    }
    findings
}

/// Mean of the `k` smallest values.
fn mean_smallest(mut distances: Vec<f32>, k: usize) -> Option<f32> {
    if distances.is_empty() {
        return None;
    }
    distances.sort_by(f32::total_cmp);
    let n = distances.len().min(k);
    Some(distances[..n].iter().sum::<f32>() / n as f32)
}

/// Photos whose face is closer to another person's photos than to the rest of its own folder
/// (mean distance to the 3 nearest of each).
pub fn wrong_people(files: &[Inspection]) -> Vec<Finding> {
    let subjects: Vec<(usize, &str, &facefile::Embedding)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.subject().map(|e| (i, f.candidate.person.as_str(), e)))
        .collect();
    let mut per_person: HashMap<&str, usize> = HashMap::new();
    for (_, person, _) in &subjects {
        *per_person.entry(person).or_default() += 1;
    }
    let mut findings = Vec::new();
    for &(i, person, embedding) in &subjects {
        if per_person[person] < MIN_PHOTOS_FOR_IDENTITY {
            continue;
        }
        let distances_to = |who: &str| -> Vec<f32> {
            subjects
                .iter()
                .filter(|(j, p, _)| *p == who && *j != i)
                .map(|(_, _, e)| e.distance(embedding))
                .collect()
        };
        let Some(own) = mean_smallest(distances_to(person), 3) else {
            continue;
        };
        let closest_other = per_person
            .iter()
            .filter(|(p, &n)| **p != person && n >= MIN_PHOTOS_FOR_IDENTITY)
            .filter_map(|(p, _)| mean_smallest(distances_to(p), 3).map(|d| (*p, d)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((other_person, other)) = closest_other {
            if other + WRONG_PERSON_MARGIN < own {
                findings.push(Finding {
                    index: i,
                    kind: FindingKind::LooksLikeAnotherPerson {
                        person: other_person.to_string(),
                        own,
                        other,
                    },
                });
            }
        }
    }
    findings
}

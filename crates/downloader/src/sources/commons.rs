//! Wikimedia Commons by identity, not by words: the files whose structured data says they depict
//! the person (`haswbstatement:P180=<item>`), then the person's category (P373) and its
//! subcategories a level or two down, skipping whole-group ones. Each file comes with its licence
//! and author. Full-text search (`TWICE Nayeon filetype:bitmap`) is not used: it ANDs words over
//! titles and categories, finds group photos led by another member and misses files that spell
//! the name another way.
//! API: www.mediawiki.org/wiki/API:Search, API:Categorymembers, API:Imageinfo, Extension:CommonsMetadata.

use std::collections::{HashSet, VecDeque};

use serde::Deserialize;
use serde_json::Value;

use super::mediawiki::{continuation, Api};
use super::wikidata::Identity;
use super::{Hit, Source, SourceError};
use crate::html::plain_text;
use crate::people::words;
use crate::transport::Manners;

/// Files asked for per page.
const PAGE_SIZE: &str = "50";
/// Width of the copy downloaded: enough for any face, a fraction of an original's bytes.
const THUMB_WIDTH: &str = "1280";
/// Subcategory levels below the person's category that are walked.
const MAX_DEPTH: usize = 2;
/// Categories visited at most (a category tree can be large and cyclic).
const MAX_CATEGORIES: usize = 40;
/// Connections to Wikimedia's upload host at once: its robot policy allows 2.
pub const UPLOAD_HOST_LIMIT: usize = 2;

const IMAGE_PROPS: &[(&str, &str)] = &[
    ("prop", "imageinfo"),
    ("iiprop", "url|mime|extmetadata"),
    ("iiurlwidth", THUMB_WIDTH),
    (
        "iiextmetadatafilter",
        "LicenseShortName|Artist|Credit|ObjectName",
    ),
];

/// Image types downloaded (SVG drawings, PDFs, videos and TIFF scans are not photos of a face).
const PHOTO_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif"];

/// The portrait file (P18), as a hit.
pub fn file(api: &Api, name: &str) -> Result<Option<Hit>, SourceError> {
    let title = format!("File:{}", name.trim_start_matches("File:"));
    let mut params: Vec<(&str, &str)> = vec![("action", "query"), ("titles", &title)];
    params.extend_from_slice(IMAGE_PROPS);
    let answer = api.get(&params)?;
    Ok(hits_in(&answer).0.into_iter().next())
}

/// Where the walk is.
enum Stage {
    Depicts {
        next: Option<Vec<(String, String)>>,
    },
    CategoryFiles {
        category: String,
        depth: usize,
        next: Option<Vec<(String, String)>>,
    },
    NextCategory,
    Done,
}

/// Commons files of one person.
pub struct Commons<'a> {
    api: Api<'a>,
    identity: Identity,
    stage: Stage,
    categories: VecDeque<(String, usize)>,
    visited: HashSet<String>,
    /// Words of the person's name: a subcategory naming the group is kept only if it names them.
    name_words: Vec<String>,
    /// Pages that could not be read and were skipped.
    pub skipped: usize,
}

impl<'a> Commons<'a> {
    pub fn new(api: Api<'a>, identity: Identity, name: &str) -> Commons<'a> {
        let mut name_words = words(&identity.label);
        name_words.extend(words(name));
        let mut categories = VecDeque::new();
        if let Some(category) = &identity.category {
            categories.push_back((category.clone(), 0));
        }
        Commons {
            api,
            identity,
            stage: Stage::Depicts { next: None },
            categories,
            visited: HashSet::new(),
            name_words,
            skipped: 0,
        }
    }

    fn query(
        &self,
        params: &[(&str, &str)],
        next: &Option<Vec<(String, String)>>,
    ) -> Result<Value, SourceError> {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if let Some(next) = next {
            all.extend(next.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        self.api.get(&all)
    }

    /// Whether a subcategory is about the whole group rather than the person: it names one of
    /// the person's groups and not the person.
    fn whole_group(&self, title: &str) -> bool {
        let title_words = words(title);
        let names_group = self.identity.groups.iter().any(|group| {
            let group_words = words(group);
            !group_words.is_empty() && group_words.iter().all(|w| title_words.contains(w))
        });
        let names_person = self.name_words.iter().any(|w| title_words.contains(w));
        names_group && !names_person
    }

    /// Queues the subcategories of `category` (all pages of them).
    fn queue_subcategories(&mut self, category: &str, depth: usize) -> Result<(), SourceError> {
        if depth >= MAX_DEPTH {
            return Ok(());
        }
        let title = format!("Category:{category}");
        let mut next = None;
        for _ in 0..5 {
            let answer = self.query(
                &[
                    ("action", "query"),
                    ("list", "categorymembers"),
                    ("cmtitle", &title),
                    ("cmtype", "subcat"),
                    ("cmlimit", "100"),
                ],
                &next,
            )?;
            let members = answer
                .get("query")
                .and_then(|q| q.get("categorymembers"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for member in members {
                let Some(sub) = member.get("title").and_then(Value::as_str) else {
                    continue;
                };
                let sub = sub.trim_start_matches("Category:").to_string();
                if self.whole_group(&sub) || self.visited.contains(&sub) {
                    continue;
                }
                self.categories.push_back((sub, depth + 1));
            }
            next = continuation(&answer);
            if next.is_none() {
                break;
            }
        }
        Ok(())
    }
}

impl Source for Commons<'_> {
    fn name(&self) -> &'static str {
        "commons"
    }

    fn next_page(&mut self) -> Result<Option<Vec<Hit>>, SourceError> {
        loop {
            match std::mem::replace(&mut self.stage, Stage::Done) {
                Stage::Depicts { next } => {
                    let search = format!("haswbstatement:P180={}", self.identity.item);
                    let mut params: Vec<(&str, &str)> = vec![
                        ("action", "query"),
                        ("generator", "search"),
                        ("gsrsearch", &search),
                        ("gsrnamespace", "6"),
                        ("gsrlimit", PAGE_SIZE),
                    ];
                    params.extend_from_slice(IMAGE_PROPS);
                    let answer = self.query(&params, &next)?;
                    let (hits, skipped) = hits_in(&answer);
                    self.skipped += skipped;
                    self.stage = match continuation(&answer) {
                        Some(next) => Stage::Depicts { next: Some(next) },
                        None => Stage::NextCategory,
                    };
                    return Ok(Some(hits));
                }
                Stage::NextCategory => {
                    let Some((category, depth)) = self.categories.pop_front() else {
                        self.stage = Stage::Done;
                        return Ok(None);
                    };
                    if !self.visited.insert(category.clone()) || self.visited.len() > MAX_CATEGORIES
                    {
                        self.stage = Stage::NextCategory;
                        continue;
                    }
                    self.queue_subcategories(&category, depth)?;
                    self.stage = Stage::CategoryFiles {
                        category,
                        depth,
                        next: None,
                    };
                }
                Stage::CategoryFiles {
                    category,
                    depth,
                    next,
                } => {
                    let title = format!("Category:{category}");
                    let mut params: Vec<(&str, &str)> = vec![
                        ("action", "query"),
                        ("generator", "categorymembers"),
                        ("gcmtitle", &title),
                        ("gcmtype", "file"),
                        ("gcmlimit", PAGE_SIZE),
                    ];
                    params.extend_from_slice(IMAGE_PROPS);
                    let answer = self.query(&params, &next)?;
                    let (hits, skipped) = hits_in(&answer);
                    self.skipped += skipped;
                    self.stage = match continuation(&answer) {
                        Some(next) => Stage::CategoryFiles {
                            category,
                            depth,
                            next: Some(next),
                        },
                        None => Stage::NextCategory,
                    };
                    return Ok(Some(hits));
                }
                Stage::Done => return Ok(None),
            }
        }
    }
}

/// One page of `query.pages` (formatversion 2: an array). Read leniently, page by page: one
/// malformed page (`extmetadata: []`, a missing field) is skipped, not the whole answer.
#[derive(Deserialize)]
struct PageEntry {
    title: Option<String>,
    index: Option<i64>,
    #[serde(default)]
    imageinfo: Vec<ImageInfo>,
}

#[derive(Deserialize)]
struct ImageInfo {
    url: Option<String>,
    thumburl: Option<String>,
    descriptionurl: Option<String>,
    mime: Option<String>,
    /// An object of `{"value": …}`s, or `[]` when empty (PHP's empty array).
    #[serde(default)]
    extmetadata: Value,
}

/// The photo hits in an answer, in the search's order, and how many pages were unreadable.
fn hits_in(answer: &Value) -> (Vec<Hit>, usize) {
    let Some(pages) = answer
        .get("query")
        .and_then(|q| q.get("pages"))
        .and_then(Value::as_array)
    else {
        return (Vec::new(), 0);
    };
    let mut skipped = 0;
    let mut entries: Vec<PageEntry> = Vec::new();
    for page in pages {
        match serde_json::from_value::<PageEntry>(page.clone()) {
            Ok(entry) => entries.push(entry),
            Err(_) => skipped += 1,
        }
    }
    entries.sort_by_key(|p| p.index.unwrap_or(i64::MAX));
    let hits = entries
        .into_iter()
        .filter_map(|page| {
            let info = page.imageinfo.into_iter().next()?;
            let mime = info.mime.as_deref().unwrap_or("");
            if !PHOTO_TYPES.contains(&mime) {
                return None;
            }
            let meta = |key: &str| {
                info.extmetadata
                    .get(key)
                    .and_then(|m| m.get("value"))
                    .and_then(Value::as_str)
                    .map(plain_text)
                    .filter(|t| !t.is_empty())
            };
            let (licence, author) = (
                meta("LicenseShortName"),
                meta("Artist").or_else(|| meta("Credit")),
            );
            let full = info.url.clone();
            let url = info.thumburl.clone().or_else(|| full.clone())?;
            Some(Hit {
                fallback: full.filter(|f| *f != url),
                url,
                page: info.descriptionurl,
                licence,
                author,
                title: page.title,
                manners: Manners::Tool,
                host_limit: UPLOAD_HOST_LIMIT,
            })
        })
        .collect();
    (hits, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_page_is_skipped_not_the_answer() {
        let answer: Value = serde_json::from_str(
            r#"{"query":{"pages":[
              {"title":"File:B.jpg","index":2,"imageinfo":[{"thumburl":"https://u/b-1280.jpg","url":"https://u/b.jpg","mime":"image/jpeg","extmetadata":[]}]},
              {"title":"File:A.jpg","index":1,"imageinfo":[{"thumburl":"https://u/a-1280.jpg","url":"https://u/a.jpg","mime":"image/jpeg",
                "extmetadata":{"LicenseShortName":{"value":"CC BY-SA 4.0"},"Artist":{"value":"<a href=\"//x\">Jane &amp; Joe</a>"}}}]},
              {"title":"File:Logo.svg","index":3,"imageinfo":[{"url":"https://u/l.svg","mime":"image/svg+xml"}]},
              {"title":"File:Broken.jpg","index":"four","imageinfo":"no"}
            ]}}"#,
        )
        .unwrap();
        let (hits, skipped) = hits_in(&answer);
        assert_eq!(skipped, 1);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].url, "https://u/a-1280.jpg");
        assert_eq!(hits[0].fallback.as_deref(), Some("https://u/a.jpg"));
        assert_eq!(hits[0].licence.as_deref(), Some("CC BY-SA 4.0"));
        assert_eq!(hits[0].author.as_deref(), Some("Jane & Joe"));
        assert_eq!(hits[0].host_limit, UPLOAD_HOST_LIMIT);
        assert_eq!(hits[1].licence, None, "extmetadata: [] is no metadata");
    }
}

//! Where image URLs come from. Identity first: [`wikidata`] resolves the person to an item, whose
//! portrait and Commons category lead [`commons`] to photos *of that person*. Then volume:
//! [`bing`]'s image results (scraped), [`duckduckgo`]'s as a best-effort fallback (scraped, off by
//! default), or the user's own list of [`urls`]. Every base URL is configurable (tests point them
//! at local servers).
//!
//! | source     | kind                       | terms                                              |
//! |------------|----------------------------|----------------------------------------------------|
//! | Wikidata   | official API (MediaWiki)   | CC0 data; API etiquette and User-Agent policy      |
//! | Commons    | official API (MediaWiki)   | free licences, recorded per file with the author   |
//! | Bing       | scraped result page        | no licence given; Microsoft's terms forbid scraping |
//! | DuckDuckGo | scraped JSON endpoint      | no licence given; bot protection blocks most tools |

pub mod bing;
pub mod commons;
pub mod duckduckgo;
pub mod mediawiki;
pub mod scene;
pub mod urls;
pub mod wikidata;

use thiserror::Error;

use crate::transport::{FetchError, Manners};

/// An image a source found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub url: String,
    /// A smaller copy to fetch when the full image cannot be had (Bing's `turl`).
    pub fallback: Option<String>,
    /// The page the image is shown on (sent as `Referer` after a 403).
    pub page: Option<String>,
    pub licence: Option<String>,
    pub author: Option<String>,
    pub title: Option<String>,
    /// Headers the image's host gets.
    pub manners: Manners,
    /// The most connections its host gets at once (Wikimedia's upload host allows 2).
    pub host_limit: usize,
}

/// Connections at once to one host that did not ask for fewer: what browsers allow is 6;
/// a tool fetching many files from one host should ask for fewer.
pub const DEFAULT_HOST_LIMIT: usize = 4;

impl Hit {
    pub fn new(url: impl Into<String>, manners: Manners) -> Hit {
        Hit {
            url: url.into(),
            fallback: None,
            page: None,
            licence: None,
            author: None,
            title: None,
            manners,
            host_limit: DEFAULT_HOST_LIMIT,
        }
    }
}

/// Why a source stopped.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SourceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The service answered with an error of its own (MediaWiki's `{"error": …}`).
    #[error("{service} answered with an error: {code}: {info}")]
    Api {
        service: &'static str,
        code: String,
        info: String,
    },
    /// The answer was not in the shape the service documents.
    #[error("{service} answered in an unexpected shape: {message}")]
    Shape {
        service: &'static str,
        message: String,
    },
}

impl SourceError {
    /// The host could not be reached at all.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SourceError::Fetch(FetchError::Unreachable { .. }))
    }
}

/// A stream of result pages for one person.
pub trait Source {
    /// `commons`, `bing`, `duckduckgo` or `urls` (recorded in the manifest).
    fn name(&self) -> &'static str;

    /// The next page of results; `Ok(None)` when there are no more.
    fn next_page(&mut self) -> Result<Option<Vec<Hit>>, SourceError>;
}

/// A query string value, percent-encoded.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A base URL without its trailing slash.
pub fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

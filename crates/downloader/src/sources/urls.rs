//! The user's own list of image URLs (one per line, `#` comments), fetched as they are.

use super::{Hit, Source, SourceError};
use crate::transport::Manners;

pub struct UrlList {
    urls: Option<Vec<String>>,
}

impl UrlList {
    pub fn new(text: &str) -> UrlList {
        let urls = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        UrlList { urls: Some(urls) }
    }
}

impl Source for UrlList {
    fn name(&self) -> &'static str {
        "urls"
    }

    fn next_page(&mut self) -> Result<Option<Vec<Hit>>, SourceError> {
        Ok(self.urls.take().map(|urls| {
            urls.into_iter()
                // The user's links are fetched as a browser would open them.
                .map(|url| Hit::new(url, Manners::Browser))
                .collect()
        }))
    }
}

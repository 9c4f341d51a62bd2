//! Bing's image results, the volume source: the `images/async` page that bing-image-downloader
//! (gurugaurav/bing_image_downloader) and icrawler read, asked with the face filter
//! (`qft=+filterui:face-face`, sent unencoded as bing-image-downloader does) and a browser's
//! headers. Each result is an `<a class="iusc" m="{…}">` whose entity-encoded JSON holds the image
//! (`murl`), a Bing-hosted thumbnail (`turl`, the fallback when the image's own host fails) and
//! the page it is on (`purl`). Scraped, not an API: Microsoft's terms do not license this use.

use std::collections::HashSet;

use serde::Deserialize;

use super::{base, encode, Hit, Source, SourceError, DEFAULT_HOST_LIMIT};
use crate::html::attribute_values;
use crate::transport::{Client, Manners, Request, ACCEPT_HTML};

/// Results asked for per page (Bing's own page size).
const PAGE_SIZE: usize = 35;
/// Result pages are HTML of a few hundred kB.
const MAX_PAGE_BYTES: u64 = 8 << 20;
/// Search engines are asked again once, not more: a second failure means they do not want to.
const SEARCH_RETRIES: u32 = 1;

pub struct Bing<'a> {
    client: &'a Client,
    base: String,
    query: String,
    page: usize,
    seen: HashSet<String>,
    done: bool,
}

impl<'a> Bing<'a> {
    pub fn new(client: &'a Client, base_url: &str, query: &str) -> Bing<'a> {
        Bing {
            client,
            base: base(base_url).to_string(),
            query: query.to_string(),
            page: 0,
            seen: HashSet::new(),
            done: false,
        }
    }

    /// The URL of result page `page` (0-based).
    pub fn page_url(&self, page: usize) -> String {
        format!(
            "{}/images/async?q={}&first={}&count={PAGE_SIZE}&qft=+filterui:face-face&adlt=moderate&mmasync=1",
            self.base,
            encode(&self.query),
            page * PAGE_SIZE + 1
        )
    }
}

#[derive(Deserialize)]
struct Metadata {
    murl: Option<String>,
    turl: Option<String>,
    purl: Option<String>,
    t: Option<String>,
}

/// The results in a Bing image page.
pub fn parse(html: &str) -> Vec<Hit> {
    attribute_values(html, "m")
        .into_iter()
        .filter_map(|json| serde_json::from_str::<Metadata>(&json).ok())
        .filter_map(|meta| {
            let url = meta.murl.filter(|u| !u.is_empty())?;
            Some(Hit {
                url,
                fallback: meta.turl.filter(|t| !t.is_empty()),
                page: meta.purl,
                licence: None,
                author: None,
                title: meta.t.map(|t| crate::html::plain_text(&t)),
                manners: Manners::Browser,
                host_limit: DEFAULT_HOST_LIMIT,
            })
        })
        .collect()
}

impl Source for Bing<'_> {
    fn name(&self) -> &'static str {
        "bing"
    }

    fn next_page(&mut self) -> Result<Option<Vec<Hit>>, SourceError> {
        if self.done {
            return Ok(None);
        }
        let url = self.page_url(self.page);
        let referer = format!("{}/images/search?q={}", self.base, encode(&self.query));
        let request = Request::new(&url, Manners::Browser, SEARCH_RETRIES, MAX_PAGE_BYTES)
            .accept(ACCEPT_HTML)
            .referer(Some(&referer));
        let hits = parse(&self.client.get(&request)?.text());
        self.page += 1;
        // Bing repeats its last results past the end: ask for more only while a page brings
        // images not seen before.
        let new: Vec<Hit> = hits
            .into_iter()
            .filter(|hit| self.seen.insert(hit.url.clone()))
            .collect();
        if new.is_empty() {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_with_numeric_entities_and_a_tab_before_m() {
        let html = "<div><a class=\"iusc\"\tm=\"{&#34;murl&#34;:&#34;https://x.example/a.jpg?w=1&amp;h=2&#34;,&#34;turl&#34;:&#34;https://tse1.mm.bing.net/th?id=1&#34;,&#34;purl&#34;:&#34;https://x.example/page&#34;,&#34;t&#34;:&#34;Jihyo&amp;#39;s &lt;b&gt;photo&lt;/b&gt;&#34;}\" href=\"#\">\
                    <a class=\"iusc\" m=\"{&quot;murl&quot;:&quot;https://y.example/b.png&quot;}\">\
                    <a class=\"iusc\" m=\"not json\"></div>";
        let hits = parse(html);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].url, "https://x.example/a.jpg?w=1&h=2");
        assert_eq!(
            hits[0].fallback.as_deref(),
            Some("https://tse1.mm.bing.net/th?id=1")
        );
        assert_eq!(hits[0].page.as_deref(), Some("https://x.example/page"));
        assert_eq!(hits[0].title.as_deref(), Some("Jihyo's photo"));
        assert_eq!(hits[0].manners, Manners::Browser);
        assert_eq!(hits[1].url, "https://y.example/b.png");
    }
}

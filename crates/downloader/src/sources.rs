//! Where image URLs come from, behind one trait: Wikimedia Commons' API (official, free, with
//! licences), DuckDuckGo's and Bing's image results (keyless, the way today's scrapers read them),
//! and a plain list of URLs. Every base URL is configurable (and tests point them at a local server).

use serde::Deserialize;

use crate::fetch::{Client, FetchError};

/// An image found by a source.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub url: String,
    pub page: Option<String>,
    pub licence: Option<String>,
    pub title: Option<String>,
}

/// One page of results; `more` says whether asking for the next page may give more.
#[derive(Debug, Default)]
pub struct Page {
    pub hits: Vec<Hit>,
    pub more: bool,
}

pub trait ImageSource: Send + Sync {
    fn name(&self) -> &'static str;
    /// Results page `page` (0-based) for `query`.
    fn search(&self, client: &Client, query: &str, page: usize) -> Result<Page, FetchError>;
}

fn encode(query: &str) -> String {
    url::form_urlencoded::byte_serialize(query.as_bytes()).collect()
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// Wikimedia Commons: the MediaWiki API's file search, with licence metadata.
pub struct Wikimedia {
    pub base_url: String,
}

#[derive(Deserialize)]
struct WikiResponse {
    query: Option<WikiQuery>,
    #[serde(rename = "continue")]
    more: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WikiQuery {
    pages: std::collections::BTreeMap<String, WikiPage>,
}

#[derive(Deserialize)]
struct WikiPage {
    title: Option<String>,
    index: Option<i64>,
    imageinfo: Option<Vec<WikiImageInfo>>,
}

#[derive(Deserialize)]
struct WikiImageInfo {
    url: Option<String>,
    thumburl: Option<String>,
    descriptionurl: Option<String>,
    mime: Option<String>,
    extmetadata: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

const WIKIMEDIA_PAGE: usize = 50;

impl ImageSource for Wikimedia {
    fn name(&self) -> &'static str {
        "wikimedia"
    }

    fn search(&self, client: &Client, query: &str, page: usize) -> Result<Page, FetchError> {
        let url = format!(
            "{}/w/api.php?action=query&format=json&generator=search&gsrsearch={}&gsrnamespace=6&gsrlimit={WIKIMEDIA_PAGE}\
             &gsroffset={}&prop=imageinfo&iiprop=url%7Cmime%7Cextmetadata&iiurlwidth=1280",
            base(&self.base_url),
            encode(&format!("{query} filetype:bitmap")),
            page * WIKIMEDIA_PAGE
        );
        let body = client.page(&url, None)?;
        let response: WikiResponse = serde_json::from_str(&body)
            .map_err(|e| FetchError::Permanent(format!("unexpected Wikimedia answer: {e}")))?;
        let mut pages: Vec<WikiPage> = response
            .query
            .map(|q| q.pages.into_values().collect())
            .unwrap_or_default();
        pages.sort_by_key(|p| p.index.unwrap_or(i64::MAX));
        let hits = pages
            .into_iter()
            .filter_map(|p| {
                let info = p.imageinfo?.into_iter().next()?;
                let mime = info.mime.unwrap_or_default();
                if !(mime == "image/jpeg"
                    || mime == "image/png"
                    || mime == "image/webp"
                    || mime == "image/gif")
                {
                    return None;
                }
                let licence = info
                    .extmetadata
                    .as_ref()
                    .and_then(|m| m.get("LicenseShortName"))
                    .and_then(|v| v.get("value"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                Some(Hit {
                    url: info.thumburl.or(info.url)?,
                    page: info.descriptionurl,
                    licence,
                    title: p.title,
                })
            })
            .collect();
        Ok(Page {
            hits,
            more: response.more.is_some(),
        })
    }
}

/// DuckDuckGo's image results: a token (`vqd`) from the search page, then the JSON endpoint.
pub struct DuckDuckGo {
    pub base_url: String,
}

#[derive(Deserialize)]
struct DdgResponse {
    #[serde(default)]
    results: Vec<DdgResult>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct DdgResult {
    image: Option<String>,
    url: Option<String>,
    title: Option<String>,
}

const DDG_PAGE: usize = 100;

/// The `vqd` token in DuckDuckGo's search page (`vqd="4-…"`, `vqd='…'` or `vqd=4-…&`).
pub fn find_vqd(html: &str) -> Option<String> {
    let start = html.find("vqd=")? + 4;
    let rest = &html[start..];
    let rest = rest.trim_start_matches(['"', '\'']);
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

impl ImageSource for DuckDuckGo {
    fn name(&self) -> &'static str {
        "duckduckgo"
    }

    fn search(&self, client: &Client, query: &str, page: usize) -> Result<Page, FetchError> {
        let base = base(&self.base_url);
        let q = encode(query);
        let html = client.page(&format!("{base}/?q={q}&iax=images&ia=images"), None)?;
        let vqd = find_vqd(&html)
            .ok_or_else(|| FetchError::Permanent("DuckDuckGo gave no search token (vqd)".into()))?;
        let url = format!(
            "{base}/i.js?l=wt-wt&o=json&q={q}&vqd={vqd}&f=,,,,,&p=1&s={}",
            page * DDG_PAGE
        );
        let body = client.page(&url, Some(&format!("{base}/")))?;
        let response: DdgResponse = serde_json::from_str(&body)
            .map_err(|e| FetchError::Permanent(format!("unexpected DuckDuckGo answer: {e}")))?;
        let hits = response
            .results
            .into_iter()
            .filter_map(|r| {
                Some(Hit {
                    url: r.image?,
                    page: r.url,
                    licence: None,
                    title: r.title,
                })
            })
            .collect();
        Ok(Page {
            hits,
            more: response.next.is_some(),
        })
    }
}

/// Bing's image results page: each result's `m` attribute holds JSON with the image URL (`murl`).
pub struct Bing {
    pub base_url: String,
}

#[derive(Deserialize)]
struct BingMeta {
    murl: Option<String>,
    purl: Option<String>,
    t: Option<String>,
}

const BING_PAGE: usize = 35;

fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The results in a Bing image page (`<a class="iusc" m="{&quot;murl&quot;:…}">`).
pub fn parse_bing(html: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(" m=\"") {
        rest = &rest[start + 4..];
        let Some(end) = rest.find('"') else { break };
        let attribute = unescape_html(&rest[..end]);
        rest = &rest[end..];
        if let Ok(meta) = serde_json::from_str::<BingMeta>(&attribute) {
            if let Some(url) = meta.murl {
                hits.push(Hit {
                    url,
                    page: meta.purl,
                    licence: None,
                    title: meta.t,
                });
            }
        }
    }
    hits
}

impl ImageSource for Bing {
    fn name(&self) -> &'static str {
        "bing"
    }

    fn search(&self, client: &Client, query: &str, page: usize) -> Result<Page, FetchError> {
        let url = format!(
            "{}/images/async?q={}&first={}&count={BING_PAGE}&adlt=moderate&mmasync=1",
            base(&self.base_url),
            encode(query),
            page * BING_PAGE + 1
        );
        let hits = parse_bing(&client.page(&url, None)?);
        let more = !hits.is_empty();
        Ok(Page { hits, more })
    }
}

/// A plain list of image URLs (one per line, `#` comments).
pub struct UrlList {
    pub urls: Vec<String>,
}

impl ImageSource for UrlList {
    fn name(&self) -> &'static str {
        "urls"
    }

    fn search(&self, _client: &Client, _query: &str, page: usize) -> Result<Page, FetchError> {
        let hits = if page == 0 {
            self.urls
                .iter()
                .map(|u| Hit {
                    url: u.clone(),
                    page: None,
                    licence: None,
                    title: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Page { hits, more: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vqd_in_its_usual_spellings() {
        assert_eq!(
            find_vqd(r#"...vqd="4-1234567890-12",..."#).as_deref(),
            Some("4-1234567890-12")
        );
        assert_eq!(find_vqd("x&vqd=4-99_ab&y").as_deref(), Some("4-99_ab"));
        assert_eq!(find_vqd("<html>nothing</html>"), None);
    }

    #[test]
    fn bing_metadata_is_unescaped() {
        let html = r##"<a class="iusc" m="{&quot;murl&quot;:&quot;https://x.example/a.jpg?w=1&amp;h=2&quot;,&quot;purl&quot;:&quot;https://x.example/page&quot;,&quot;t&quot;:&quot;Jihyo&#39;s photo&quot;}" href="#">"##;
        let hits = parse_bing(html);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].url, "https://x.example/a.jpg?w=1&h=2");
        assert_eq!(hits[0].title.as_deref(), Some("Jihyo's photo"));
    }
}

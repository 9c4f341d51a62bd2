//! DuckDuckGo's image results, off by default and kept as a best-effort fallback. The flow is
//! ddgs 9's (deedy5/ddgs): the search page gives a token (`vqd`), then `i.js` answers JSON pages
//! linked by `next`. DuckDuckGo now blocks clients that do not look like a browser at the TLS level
//! (ddgs survives by impersonating one) and answers them HTTP 202 with an empty page, or 403/418:
//! that is reported as a block, and after the first block DuckDuckGo is left alone for the rest of
//! the run. Its image results are Bing's anyway. Scraped, not an API.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{base, encode, Hit, Source, SourceError, DEFAULT_HOST_LIMIT};
use crate::transport::{Client, FetchError, Manners, Request, ACCEPT_HTML, ACCEPT_JSON};

/// At least this long between two requests to DuckDuckGo.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
const MAX_PAGE_BYTES: u64 = 8 << 20;
const SEARCH_RETRIES: u32 = 1;

/// What every person's DuckDuckGo search shares during one run.
#[derive(Default)]
pub struct DuckDuckGoState {
    /// Set at the first block: no more requests this run.
    blocked: Mutex<Option<FetchError>>,
    /// Search tokens by query.
    tokens: Mutex<HashMap<String, String>>,
    last_request: Mutex<Option<Instant>>,
}

impl DuckDuckGoState {
    pub fn blocked(&self) -> Option<FetchError> {
        self.blocked.lock().expect("lock").clone()
    }

    /// Waits until MIN_INTERVAL has passed since the last request.
    fn pace(&self) {
        let mut last = self.last_request.lock().expect("lock");
        if let Some(previous) = *last {
            let since = previous.elapsed();
            if since < MIN_INTERVAL {
                std::thread::sleep(MIN_INTERVAL - since);
            }
        }
        *last = Some(Instant::now());
    }
}

pub struct DuckDuckGo<'a> {
    client: &'a Client,
    state: &'a DuckDuckGoState,
    base: String,
    query: String,
    /// `s` of the next page; `None` once there is none.
    next: Option<String>,
}

impl<'a> DuckDuckGo<'a> {
    pub fn new(
        client: &'a Client,
        state: &'a DuckDuckGoState,
        base_url: &str,
        query: &str,
    ) -> Self {
        DuckDuckGo {
            client,
            state,
            base: base(base_url).to_string(),
            query: query.to_string(),
            next: Some("0".into()),
        }
    }

    /// GET with the block detection: 202 (the empty challenge page), 403 and 418 are blocks.
    fn get(&self, url: &str, accept: &str) -> Result<String, SourceError> {
        if let Some(block) = self.state.blocked() {
            return Err(block.into());
        }
        self.state.pace();
        let referer = format!("{}/", self.base);
        let request = Request::new(url, Manners::Browser, SEARCH_RETRIES, MAX_PAGE_BYTES)
            .accept(accept)
            .referer(Some(&referer));
        let block = |status| FetchError::Blocked {
            service: "DuckDuckGo",
            status,
        };
        let error = match self.client.get(&request) {
            Ok(response) if response.status == 202 => block(202),
            Ok(response) => return Ok(response.text()),
            Err(FetchError::Refused { status, .. }) if status == 403 || status == 418 => {
                block(status)
            }
            Err(error) => return Err(error.into()),
        };
        *self.state.blocked.lock().expect("lock") = Some(error.clone());
        Err(error.into())
    }

    fn token(&self) -> Result<String, SourceError> {
        if let Some(token) = self.state.tokens.lock().expect("lock").get(&self.query) {
            return Ok(token.clone());
        }
        let html = self.get(
            &format!(
                "{}/?q={}&iax=images&ia=images",
                self.base,
                encode(&self.query)
            ),
            ACCEPT_HTML,
        )?;
        let token = find_vqd(&html).ok_or_else(|| SourceError::Shape {
            service: "DuckDuckGo",
            message: "its search page has no search token (vqd)".into(),
        })?;
        self.state
            .tokens
            .lock()
            .expect("lock")
            .insert(self.query.clone(), token.clone());
        Ok(token)
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    results: Vec<Result_>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Result_ {
    image: Option<String>,
    thumbnail: Option<String>,
    url: Option<String>,
    title: Option<String>,
}

/// The `vqd` token in DuckDuckGo's search page (`vqd="4-…"`, `vqd='…'` or `vqd=4-…&`).
pub fn find_vqd(html: &str) -> Option<String> {
    let start = html.find("vqd=")? + 4;
    let rest = html[start..].trim_start_matches(['"', '\'']);
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// The `s` parameter of a `next` link (`i.js?q=…&s=100&…`).
fn offset_of(next: &str) -> Option<String> {
    let query = next.split_once('?').map_or(next, |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "s")
        .map(|(_, value)| value.into_owned())
}

impl Source for DuckDuckGo<'_> {
    fn name(&self) -> &'static str {
        "duckduckgo"
    }

    fn next_page(&mut self) -> Result<Option<Vec<Hit>>, SourceError> {
        let Some(offset) = self.next.take() else {
            return Ok(None);
        };
        let token = self.token()?;
        let url = format!(
            "{}/i.js?l=wt-wt&o=json&q={}&vqd={}&f=,,,,,&p=1&s={offset}",
            self.base,
            encode(&self.query),
            encode(&token)
        );
        let body = self.get(&url, ACCEPT_JSON)?;
        let answer: Answer = serde_json::from_str(&body).map_err(|e| SourceError::Shape {
            service: "DuckDuckGo",
            message: format!("i.js is not the JSON ddgs reads ({e})"),
        })?;
        self.next = answer.next.as_deref().and_then(offset_of);
        let hits = answer
            .results
            .into_iter()
            .filter_map(|r| {
                Some(Hit {
                    url: r.image?,
                    fallback: r.thumbnail,
                    page: r.url,
                    licence: None,
                    author: None,
                    title: r.title,
                    manners: Manners::Browser,
                    host_limit: DEFAULT_HOST_LIMIT,
                })
            })
            .collect();
        Ok(Some(hits))
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
    fn the_next_page_offset() {
        assert_eq!(
            offset_of("i.js?q=x&o=json&p=1&s=100&u=bing&f=,,,&l=wt-wt").as_deref(),
            Some("100")
        );
        assert_eq!(offset_of("i.js?q=x"), None);
    }
}

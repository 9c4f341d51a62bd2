//! HTTP with the manners each service asks for.
//!
//! - Wikimedia's User-Agent policy (meta.wikimedia.org/wiki/User-Agent_policy, enforced since
//!   2025) wants `tool/version (contact) library/version` and answers generic or browser-looking
//!   agents with 403s and low limits: Wikimedia and Wikidata get [`Manners::Tool`].
//! - Search engines give non-browser agents fewer or irrelevant results: Bing and DuckDuckGo, and
//!   the images they point to, get [`Manners::Browser`] (a current browser's User-Agent and
//!   `Accept-Language`, as icrawler and bing-image-downloader send).
//!
//! Redirects are followed here, not by the HTTP library, so that only `http`/`https` targets are
//! followed (a `file://` or `data:` redirect, a loop or too many hops fail that URL and nothing
//! else). `Retry-After` is honoured as seconds or as an HTTP date; 401/403/429 are "refused for
//! now", never "gone for good"; a 403 is retried once with the page the image was found on as
//! `Referer` (hotlink protection).

use std::io::Read;
use std::time::{Duration, SystemTime};

use thiserror::Error;

/// How a request failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FetchError {
    /// The host could not be reached at all (no network, DNS failure, connection refused).
    #[error("cannot reach {host}: {message}")]
    Unreachable { host: String, message: String },
    /// Timeouts, server errors, broken connections: failed after every retry; worth another run.
    #[error("gave up after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: String },
    /// 401, 403, 418 or 429: refused now (a User-Agent or hotlink block, a rate limit); may work later.
    #[error("refused (HTTP {status}{detail})")]
    Refused { status: u16, detail: String },
    /// A search engine's bot protection answered instead of results.
    #[error("blocked by {service}'s bot protection (HTTP {status})")]
    Blocked { service: &'static str, status: u16 },
    /// Will not work next time either: 404, not an image, too large, a redirect to a non-web
    /// address, a redirect loop.
    #[error("{0}")]
    Permanent(String),
}

impl FetchError {
    /// Whether trying again on a later run is pointless.
    pub fn is_permanent(&self) -> bool {
        matches!(self, FetchError::Permanent(_))
    }
}

/// Which headers a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manners {
    /// The tool's name, version and contact (Wikimedia, Wikidata).
    Tool,
    /// A current browser's User-Agent and languages (search engines and their images).
    Browser,
}

/// Chrome's stable release when this was written (November 2026), on Windows: the agent search
/// engines serve full results to. An old version number gets the degraded pages old browsers get.
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// The tool's User-Agent as Wikimedia's policy asks: `name/version (what it is; contact) library`.
pub fn tool_user_agent(contact: Option<&str>) -> String {
    let contact = contact
        .map(|c| c.trim().replace(['(', ')', ';', '\n', '\r'], ""))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "no contact given".into());
    format!(
        "facelabel-downloader/{} (photos for face recognition; {contact}) ureq/2",
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Debug, Clone)]
pub struct TransportSettings {
    pub timeout: Duration,
    /// First backoff delay; doubled after each failure.
    pub backoff: Duration,
    /// Longest `Retry-After` waited for; a longer one gives up at once (refused for now).
    pub max_retry_after: Duration,
    /// User-Agent for [`Manners::Tool`].
    pub tool_user_agent: String,
}

/// One GET.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub url: &'a str,
    pub manners: Manners,
    /// Retries after a timeout, a server error or a 429.
    pub retries: u32,
    /// Largest body accepted, in bytes.
    pub limit: u64,
    /// `Accept` header.
    pub accept: &'a str,
    /// Sent from the first attempt (search engines' own pages).
    pub referer: Option<&'a str>,
    /// Sent only on a retry after a 403 (the page an image was found on: hotlink protection).
    pub referer_after_403: Option<&'a str>,
}

pub const ACCEPT_HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const ACCEPT_JSON: &str = "application/json";
pub const ACCEPT_IMAGE: &str = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8";

impl<'a> Request<'a> {
    pub fn new(url: &'a str, manners: Manners, retries: u32, limit: u64) -> Request<'a> {
        Request {
            url,
            manners,
            retries,
            limit,
            accept: "*/*",
            referer: None,
            referer_after_403: None,
        }
    }

    pub fn accept(mut self, accept: &'a str) -> Self {
        self.accept = accept;
        self
    }

    pub fn referer(mut self, referer: Option<&'a str>) -> Self {
        self.referer = referer;
        self
    }

    pub fn referer_after_403(mut self, referer: Option<&'a str>) -> Self {
        self.referer_after_403 = referer;
        self
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// Where the body came from after redirects.
    pub url: String,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Redirect hops followed before giving up (browsers allow 20; image hosts need 1–2).
const MAX_REDIRECTS: usize = 5;

pub struct Client {
    agent: ureq::Agent,
    settings: TransportSettings,
}

/// What one attempt ended with.
enum Attempt {
    Done(Response),
    /// Worth retrying; the wait the server asked for, if any, and whether it was a rate limit
    /// (429: refused for now if it lasts).
    Retry {
        reason: String,
        wait: Option<Duration>,
        rate_limited: bool,
    },
    Failed(FetchError),
}

impl Client {
    pub fn new(settings: TransportSettings) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .redirects(0)
            .build();
        Client { agent, settings }
    }

    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// GET with retries, redirects and the service's manners.
    pub fn get(&self, request: &Request) -> Result<Response, FetchError> {
        check_scheme(request.url)?;
        let mut delay = self.settings.backoff;
        let mut last = String::new();
        let mut last_rate_limited = false;
        let mut referer = request.referer;
        let mut referer_tried = false;
        let mut attempt = 0;
        while attempt <= request.retries {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            attempt += 1;
            match self.attempt(request, referer) {
                Attempt::Done(response) => return Ok(response),
                Attempt::Failed(FetchError::Refused { status: 403, .. })
                    if !referer_tried && request.referer_after_403.is_some() =>
                {
                    // Hotlink protection: ask again as if from the page the image is on. This
                    // is a different request, not a retry of the same one.
                    referer_tried = true;
                    referer = request.referer_after_403;
                    attempt -= 1;
                    delay = Duration::ZERO;
                }
                Attempt::Failed(error) => return Err(error),
                Attempt::Retry {
                    reason,
                    wait,
                    rate_limited,
                } => {
                    last = reason;
                    last_rate_limited = rate_limited;
                    if let Some(wait) = wait {
                        if wait > self.settings.max_retry_after {
                            return Err(FetchError::Refused {
                                status: 429,
                                detail: format!(
                                    "; the server asks to wait {} s, more than the {} s this run waits",
                                    wait.as_secs(),
                                    self.settings.max_retry_after.as_secs()
                                ),
                            });
                        }
                        delay = wait;
                    }
                }
            }
        }
        if last_rate_limited {
            return Err(FetchError::Refused {
                status: 429,
                detail: format!(" after {attempt} attempts"),
            });
        }
        Err(FetchError::GaveUp {
            attempts: attempt,
            last,
        })
    }

    /// One attempt: the request and its redirects.
    fn attempt(&self, request: &Request, referer: Option<&str>) -> Attempt {
        let mut url = request.url.to_string();
        let mut visited = vec![url.clone()];
        loop {
            let mut call = self.agent.get(&url).set("Accept", request.accept);
            call = match request.manners {
                Manners::Tool => call.set("User-Agent", &self.settings.tool_user_agent),
                Manners::Browser => call
                    .set("User-Agent", BROWSER_USER_AGENT)
                    .set("Accept-Language", "en-US,en;q=0.9"),
            };
            if let Some(referer) = referer {
                call = call.set("Referer", referer);
            }
            let response = match call.call() {
                Ok(response) => response,
                Err(ureq::Error::Status(status, response)) => {
                    return status_failure(status, &response, &url)
                }
                Err(ureq::Error::Transport(transport)) => {
                    return transport_failure(&url, &transport)
                }
            };
            let status = response.status();
            if (300..400).contains(&status) {
                let Some(location) = response.header("Location") else {
                    return Attempt::Failed(FetchError::Permanent(format!(
                        "HTTP {status} redirect without a Location"
                    )));
                };
                let target = match url::Url::parse(&url).and_then(|base| base.join(location)) {
                    Ok(target) => target.to_string(),
                    Err(error) => {
                        return Attempt::Failed(FetchError::Permanent(format!(
                            "redirected to an unreadable address {location:?}: {error}"
                        )))
                    }
                };
                if let Err(error) = check_scheme(&target) {
                    return Attempt::Failed(FetchError::Permanent(format!("redirected: {error}")));
                }
                if visited.contains(&target) {
                    return Attempt::Failed(FetchError::Permanent(format!(
                        "redirect loop through {target}"
                    )));
                }
                if visited.len() > MAX_REDIRECTS {
                    return Attempt::Failed(FetchError::Permanent(format!(
                        "more than {MAX_REDIRECTS} redirects"
                    )));
                }
                visited.push(target.clone());
                url = target;
                continue;
            }
            if let Some(length) = response
                .header("Content-Length")
                .and_then(|l| l.parse::<u64>().ok())
            {
                if length > request.limit {
                    return Attempt::Failed(FetchError::Permanent(format!(
                        "too large ({length} bytes, limit {})",
                        request.limit
                    )));
                }
            }
            let mut body = Vec::new();
            return match response
                .into_reader()
                .take(request.limit + 1)
                .read_to_end(&mut body)
            {
                Ok(_) if body.len() as u64 > request.limit => Attempt::Failed(
                    FetchError::Permanent(format!("too large (over {} bytes)", request.limit)),
                ),
                Ok(_) => Attempt::Done(Response { status, body, url }),
                Err(error) => Attempt::Retry {
                    reason: format!("reading the body failed: {error}"),
                    wait: None,
                    rate_limited: false,
                },
            };
        }
    }
}

/// Only web addresses are fetched: a `file://`, `data:` or `ftp://` address (in a result or a
/// redirect) is refused, never handed to a library that might read it.
fn check_scheme(url: &str) -> Result<(), FetchError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(()),
        Ok(parsed) => Err(FetchError::Permanent(format!(
            "not a web address ({}: scheme), refused",
            parsed.scheme()
        ))),
        Err(error) => Err(FetchError::Permanent(format!(
            "not a web address ({error}): {url:?}"
        ))),
    }
}

fn status_failure(status: u16, response: &ureq::Response, url: &str) -> Attempt {
    match status {
        429 => Attempt::Retry {
            reason: "rate limited (HTTP 429)".into(),
            wait: response
                .header("Retry-After")
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
            rate_limited: true,
        },
        // 418 is what some bot protections (DuckDuckGo's) answer with.
        401 | 403 | 418 => Attempt::Failed(FetchError::Refused {
            status,
            detail: String::new(),
        }),
        500..=599 => Attempt::Retry {
            reason: format!("server error (HTTP {status}) from {}", host_of(url)),
            wait: response
                .header("Retry-After")
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
            rate_limited: false,
        },
        _ => Attempt::Failed(FetchError::Permanent(format!("HTTP {status}"))),
    }
}

fn transport_failure(url: &str, transport: &ureq::Transport) -> Attempt {
    use ureq::ErrorKind;
    match transport.kind() {
        ErrorKind::Dns | ErrorKind::ConnectionFailed => Attempt::Failed(FetchError::Unreachable {
            host: host_of(url),
            message: transport
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| transport.kind().to_string()),
        }),
        ErrorKind::InvalidUrl | ErrorKind::UnknownScheme | ErrorKind::TooManyRedirects => {
            Attempt::Failed(FetchError::Permanent(transport.to_string()))
        }
        _ => Attempt::Retry {
            reason: transport.to_string(),
            wait: None,
            rate_limited: false,
        },
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `host` or `host:port` of a URL: the unit of politeness (connections, dead hosts).
pub fn host_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => match (parsed.host_str(), parsed.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_or_a_date() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 10:00:00 GMT").unwrap();
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn only_web_addresses_are_fetched() {
        assert!(check_scheme("https://upload.wikimedia.org/a.jpg").is_ok());
        for bad in [
            "file:///etc/passwd",
            "data:image/png;base64,AAAA",
            "ftp://x/y.jpg",
            "javascript:alert(1)",
            "not a url",
        ] {
            assert!(check_scheme(bad).unwrap_err().is_permanent(), "{bad}");
        }
    }

    #[test]
    fn user_agents_say_who_is_asking() {
        let tool = tool_user_agent(Some("fan@example.org"));
        assert!(tool.starts_with(&format!(
            "facelabel-downloader/{} (",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(tool.contains("; fan@example.org)"), "{tool}");
        assert!(!tool_user_agent(Some("a) b(")).contains("a) b("));
        assert!(tool_user_agent(None).contains("; no contact given)"));
        assert!(!tool_user_agent(None).contains("Mozilla"));
        assert!(BROWSER_USER_AGENT.starts_with("Mozilla/5.0"));
        assert_eq!(host_of("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(
            host_of("https://upload.wikimedia.org/x"),
            "upload.wikimedia.org"
        );
    }
}

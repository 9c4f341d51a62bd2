//! HTTP with the manners of a good client: a real User-Agent, per-request timeouts, retries with
//! exponential backoff, `Retry-After` on 429, a size limit, and content sniffing — the bytes must
//! decode as an image, whatever the `Content-Type` says.

use std::io::Read;
use std::time::Duration;

/// How a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The host could not be reached at all (no network, DNS failure, connection refused).
    Unreachable(String),
    /// Failed after all retries (timeouts, 5xx, 429).
    GaveUp(String),
    /// Failed for good (404, not an image, too large): do not try again.
    Permanent(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unreachable(m) | FetchError::GaveUp(m) | FetchError::Permanent(m) => {
                f.write_str(m)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub timeout: Duration,
    pub retries: u32,
    /// First backoff delay; doubled after each failure.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    pub max_bytes: u64,
}

/// An image's bytes and the extension its content calls for.
pub struct DownloadedImage {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
}

pub struct Client {
    agent: ureq::Agent,
    settings: FetchSettings,
}

/// A browser-like User-Agent naming the tool: some image hosts refuse clients without one.
pub const USER_AGENT: &str = concat!(
    "Mozilla/5.0 (X11; Linux x86_64) facelabel-downloader/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/; fan photo collection for face recognition)"
);

impl Client {
    pub fn new(settings: FetchSettings) -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(settings.timeout.min(Duration::from_secs(10)))
            .timeout(settings.timeout)
            .redirects(5)
            .user_agent(USER_AGENT)
            .build();
        Client { agent, settings }
    }

    /// GET `url` with retries; returns the body (at most `limit` bytes).
    pub fn get(&self, url: &str, referer: Option<&str>, limit: u64) -> Result<Vec<u8>, FetchError> {
        let mut delay = self.settings.backoff;
        let mut last = String::new();
        for attempt in 0..=self.settings.retries {
            if attempt > 0 {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            let mut request = self.agent.get(url);
            if let Some(referer) = referer {
                request = request.set("Referer", referer);
            }
            match request.call() {
                Ok(response) => {
                    if let Some(length) = response
                        .header("Content-Length")
                        .and_then(|l| l.parse::<u64>().ok())
                    {
                        if length > limit {
                            return Err(FetchError::Permanent(format!(
                                "too large ({length} bytes, limit {limit})"
                            )));
                        }
                    }
                    let mut body = Vec::new();
                    match response
                        .into_reader()
                        .take(limit + 1)
                        .read_to_end(&mut body)
                    {
                        Ok(_) if body.len() as u64 > limit => {
                            return Err(FetchError::Permanent(format!(
                                "too large (over {limit} bytes)"
                            )))
                        }
                        Ok(_) => return Ok(body),
                        Err(error) => last = format!("reading the body failed: {error}"),
                    }
                }
                Err(ureq::Error::Status(429, response)) => {
                    last = "rate limited (HTTP 429)".into();
                    if let Some(seconds) = response
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    {
                        delay = Duration::from_secs(seconds).min(self.settings.max_retry_after);
                    }
                }
                Err(ureq::Error::Status(code, _)) if code >= 500 => {
                    last = format!("server error (HTTP {code})")
                }
                Err(ureq::Error::Status(code, _)) => {
                    return Err(FetchError::Permanent(format!("HTTP {code}")))
                }
                Err(ureq::Error::Transport(transport)) => {
                    use ureq::ErrorKind;
                    match transport.kind() {
                        ErrorKind::Dns | ErrorKind::ConnectionFailed if attempt == 0 => {
                            // Unreachable hosts are retried once only: with no network, say so fast.
                            let message = format!("cannot reach {}: {transport}", host_of(url));
                            if self.settings.retries == 0 {
                                return Err(FetchError::Unreachable(message));
                            }
                            last = message;
                        }
                        ErrorKind::Dns | ErrorKind::ConnectionFailed => {
                            return Err(FetchError::Unreachable(format!(
                                "cannot reach {}: {transport}",
                                host_of(url)
                            )))
                        }
                        ErrorKind::InvalidUrl
                        | ErrorKind::UnknownScheme
                        | ErrorKind::TooManyRedirects => {
                            return Err(FetchError::Permanent(transport.to_string()))
                        }
                        _ => last = transport.to_string(),
                    }
                }
            }
        }
        Err(FetchError::GaveUp(format!(
            "gave up after {} attempts: {last}",
            self.settings.retries + 1
        )))
    }

    /// Downloads an image: the bytes must decode as a complete image (by content, not by header).
    pub fn image(&self, url: &str) -> Result<DownloadedImage, FetchError> {
        let bytes = self.get(url, None, self.settings.max_bytes)?;
        let decoded = facecore::decode_bytes(&bytes, &facecore::DecodeOptions::default())
            .map_err(|e| FetchError::Permanent(format!("not a usable image: {e}")))?;
        let extension = match decoded.format {
            "JPEG" => "jpg",
            "PNG" => "png",
            "GIF" => "gif",
            "WebP" => "webp",
            "BMP" => "bmp",
            "TIFF" => "tiff",
            _ => "img",
        };
        Ok(DownloadedImage { bytes, extension })
    }

    /// A text/JSON page (search results): up to 8 MB.
    pub fn page(&self, url: &str, referer: Option<&str>) -> Result<String, FetchError> {
        let bytes = self.get(url, referer, 8 << 20)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| url.to_string())
}

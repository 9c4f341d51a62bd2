//! Local HTTP servers that stand in for web services in tests: each records what it was asked
//! (path, query, User-Agent, Accept-Language, Referer) and the most requests it served at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request, as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: HashMap<String, String>,
    pub user_agent: String,
    pub accept_language: Option<String>,
    pub referer: Option<String>,
    pub at: Instant,
}

impl Seen {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str)
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// Held this long before answering (a slow host).
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            content_type: content_type.into(),
            body: body.into(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn json(value: &str) -> Reply {
        Reply::new(200, "application/json", value.as_bytes().to_vec())
    }

    pub fn html(text: &str) -> Reply {
        Reply::new(200, "text/html", text.as_bytes().to_vec())
    }

    pub fn image(bytes: Vec<u8>) -> Reply {
        Reply::new(200, "image/jpeg", bytes)
    }

    pub fn status(status: u16) -> Reply {
        Reply::new(status, "text/plain", format!("HTTP {status}").into_bytes())
    }

    pub fn redirect(to: &str) -> Reply {
        Reply::new(302, "text/plain", Vec::new()).header("Location", to)
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// A running server; it stops with the test process.
pub struct FakeServer {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    busiest: Arc<AtomicUsize>,
}

type Handler = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

impl FakeServer {
    /// Starts a server on a free local port; `handler` gets each request and how many requests
    /// with the same path came before it, plus one.
    pub fn start(handler: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> FakeServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("a local port");
        let base = format!(
            "http://{}",
            server.server_addr().to_ip().expect("an IP address")
        );
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let busiest = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log, max) = (seen.clone(), busiest.clone());
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let header = |name: &str| {
                    request
                        .headers()
                        .iter()
                        .find(|h| h.field.to_string().eq_ignore_ascii_case(name))
                        .map(|h| h.value.as_str().to_string())
                };
                let (path, query) = match request.url().split_once('?') {
                    Some((path, query)) => (path.to_string(), query.to_string()),
                    None => (request.url().to_string(), String::new()),
                };
                let seen = Seen {
                    path,
                    query: url::form_urlencoded::parse(query.as_bytes())
                        .into_owned()
                        .collect(),
                    user_agent: header("User-Agent").unwrap_or_default(),
                    accept_language: header("Accept-Language"),
                    referer: header("Referer"),
                    at: Instant::now(),
                };
                let count = {
                    let mut log = log.lock().unwrap();
                    log.push(seen.clone());
                    log.iter().filter(|s| s.path == seen.path).count()
                };
                let (handler, busy, max) = (handler.clone(), busy.clone(), max.clone());
                std::thread::spawn(move || {
                    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    let reply = handler(&seen, count);
                    std::thread::sleep(reply.delay);
                    let mut response =
                        tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    let content_type = tiny_http::Header::from_bytes(
                        "Content-Type",
                        reply.content_type.as_bytes(),
                    );
                    response.add_header(content_type.expect("a header"));
                    for (name, value) in &reply.headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                .expect("a header"),
                        );
                    }
                    // Counted as finished before the client can see the answer, so a client that
                    // waits for it never overlaps this request in the count.
                    busy.fetch_sub(1, Ordering::SeqCst);
                    let _ = request.respond(response);
                });
            }
        });
        FakeServer {
            base,
            seen,
            busiest,
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests whose path is `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    /// The most requests this server was answering at one time.
    pub fn busiest(&self) -> usize {
        self.busiest.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

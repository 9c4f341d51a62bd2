//! `downloader`: photos of each person into `data/<person>/`, from services that will answer, and
//! only photos of that person.
//!
//! - [`people`]: who to download (`-k`, or a `--people` file with optional Wikidata items).
//! - [`transport`]: HTTP with each service's manners (User-Agent, retries, `Retry-After`,
//!   redirects that can only lead to web addresses).
//! - [`html`]: entity decoding and attribute scanning for scraped pages.
//! - [`sources`]: Wikidata (identity), Wikimedia Commons (by identity), Bing, DuckDuckGo, URL lists.
//! - [`anchor`]: the face filter that keeps only the person's photos.
//! - [`collect`]: one person's folder topped up: the work queue, the manifest, the quarantine.
//! - [`strangers`]: members of other groups of the same scene, for `data/.strangers/`.

pub mod anchor;
pub mod collect;
pub mod html;
pub mod people;
pub mod sources;
pub mod strangers;
pub mod transport;

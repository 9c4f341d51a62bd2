//! One person's folder, topped up to `-n` photos: who they are (Wikidata), the anchor (their
//! portrait and own photos), then the sources in order, their results downloaded by a pool of
//! workers fed from one queue (never more than a host's limit at once on one host), each download
//! checked against the anchor and either kept (named by content, recorded in the manifest with its
//! source, licence and author) or quarantined with the reason.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use facefile::format::manifest::{FailedUrl, Manifest, ManifestEntry, ManifestFile, MANIFEST_FILE};
use facefile::quarantine::Quarantine;
use facefile::Stamped;

use crate::anchor::{AnchorFilter, FaceReader, LazyFaceReader, Looked, Verdict};
use crate::people::Person;
use crate::sources::bing::Bing;
use crate::sources::commons::{self, Commons};
use crate::sources::duckduckgo::{DuckDuckGo, DuckDuckGoState};
use crate::sources::mediawiki::Api;
use crate::sources::urls::UrlList;
use crate::sources::wikidata::{self, Identity, Lookup};
use crate::sources::{Hit, Source, SourceError};
use crate::transport::{host_of, Client, FetchError, Request, ACCEPT_IMAGE};

/// A source, as `--sources` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Commons,
    Bing,
    DuckDuckGo,
    Urls,
}

/// Where each service is (tests point them at local servers).
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub wikidata: String,
    pub commons: String,
    pub bing: String,
    pub duckduckgo: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub number: usize,
    pub threads: usize,
    /// Retries for images and Wikimedia's API (search engines get one).
    pub retries: u32,
    pub max_bytes: u64,
    pub max_pages: usize,
    pub offline: bool,
    /// Try again the URLs that failed for good on an earlier run.
    pub retry_failed: bool,
    pub sources: Vec<SourceKind>,
    /// The `--urls` file's text.
    pub urls: Option<String>,
}

/// What happened for one person.
#[derive(Debug, Default)]
pub struct Tally {
    /// Photos the user put in the folder (not from a download).
    pub own: usize,
    /// Downloads kept from earlier runs.
    pub had: usize,
    pub downloaded: usize,
    /// Downloads quarantined: not the person, no face, a group photo.
    pub quarantined: usize,
    pub duplicates: usize,
    pub failed: usize,
    pub per_source: Vec<(&'static str, usize)>,
    pub notes: Vec<String>,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.own + self.had + self.downloaded
    }

    fn count(&mut self, source: &'static str) {
        match self.per_source.iter_mut().find(|(name, _)| *name == source) {
            Some((_, n)) => *n += 1,
            None => self.per_source.push((source, 1)),
        }
    }
}

/// Hosts that fail this many times in a row (unreachable, timing out) are skipped for the rest of
/// the person's run: a dead host must not hold up the queue.
const DEAD_HOST_FAILURES: usize = 3;
/// Own photos read to build the anchor, at most.
const MAX_TRUSTED_OWN: usize = 20;

/// What the run shares between people.
pub struct Shared<'a> {
    pub client: &'a Client,
    pub settings: &'a Settings,
    pub endpoints: &'a Endpoints,
    pub duckduckgo: &'a DuckDuckGoState,
    /// The anchor filter's face reader (off with `--no-anchor`).
    pub faces: LazyFaceReader,
}

/// A download, from the worker that fetched it.
struct Fetched {
    hit: Hit,
    source: &'static str,
    /// The URL the bytes came from (the hit's, or its fallback).
    url: String,
    outcome: Result<Download, FetchError>,
}

/// An image's bytes, checked by decoding them on the worker; the decoded pixels go on to the
/// face reader, so no download is decoded twice.
struct Download {
    bytes: Vec<u8>,
    extension: &'static str,
    image: facecore::RgbImage,
}

/// A download waiting for the anchor's verdict.
struct Candidate {
    hit: Hit,
    source: &'static str,
    url: String,
    bytes: Vec<u8>,
    extension: &'static str,
    sha256: String,
}

/// One person's run.
struct PersonRun<'r, 'a> {
    context: &'r mut Shared<'a>,
    person: &'r Person,
    folder: PathBuf,
    manifest_path: PathBuf,
    manifest: ManifestFile,
    quarantine: Quarantine,
    tally: Tally,
    seen_urls: HashSet<String>,
    seen_hashes: HashSet<String>,
    filter: Option<AnchorFilter<Candidate>>,
    /// Whether any service answered at all (else "no network").
    reached: bool,
    /// Sources (and the identity lookup) that could not be reached.
    unreachable: usize,
    attempted: usize,
}

/// Tops up one person's folder.
pub fn collect_person(
    context: &mut Shared,
    person: &Person,
    progress: &indicatif::ProgressBar,
) -> Result<Tally> {
    let folder = context.settings.data_dir.join(&person.folder);
    let created = !folder.exists();
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    // What a killed run was writing (a photo, the manifest) is gone with it.
    facefile::fs::remove_stale_partials_in(&folder);
    let manifest_path = folder.join(MANIFEST_FILE);
    let mut manifest: ManifestFile = if manifest_path.exists() {
        ManifestFile::read(&manifest_path)?
    } else {
        Stamped::new(
            format!("downloader {}", env!("CARGO_PKG_VERSION")),
            None,
            Manifest::new(&person.folder, &person.query),
        )
    };
    // Entries whose file the user deleted no longer count; failures worth another try are tried.
    manifest
        .body
        .entries
        .retain(|e| folder.join(&e.file).is_file());
    let retry_failed = context.settings.retry_failed;
    manifest
        .body
        .failed
        .retain(|f| f.permanent && !retry_failed);
    let downloaded: HashSet<PathBuf> = manifest
        .body
        .entries
        .iter()
        .map(|e| folder.join(&e.file))
        .collect();
    let own_photos: Vec<PathBuf> = facecore::dataset::photos_in(&folder)
        .into_iter()
        .filter(|p| !downloaded.contains(p))
        .collect();
    let tally = Tally {
        own: own_photos.len(),
        had: manifest.body.entries.len(),
        ..Default::default()
    };
    let seen_urls = manifest
        .body
        .entries
        .iter()
        .map(|e| e.url.clone())
        .chain(manifest.body.failed.iter().map(|f| f.url.clone()))
        .collect();
    let seen_hashes = manifest
        .body
        .entries
        .iter()
        .map(|e| e.sha256.clone())
        .collect();
    let quarantine = Quarantine::of(&context.settings.data_dir);
    let mut run = PersonRun {
        context,
        person,
        folder,
        manifest_path,
        manifest,
        quarantine,
        tally,
        seen_urls,
        seen_hashes,
        filter: None,
        reached: false,
        unreachable: 0,
        attempted: 0,
    };
    let collected = run.collect(&own_photos, progress);
    let folder = run.folder.clone();
    let tally = run.tally;
    if created && tally.total() == 0 {
        // Nothing could be had: the folder this run made goes again, so no empty person is left
        // for the later stages (they would fail on it, or `make` would think it done).
        remove_if_only_bookkeeping(&folder);
    }
    collected?;
    Ok(tally)
}

/// Removes `folder` when it holds nothing but the manifest (and partial files).
fn remove_if_only_bookkeeping(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names
        .iter()
        .all(|n| n == MANIFEST_FILE || n.contains(".partial-"))
    {
        for name in &names {
            let _ = std::fs::remove_file(folder.join(name));
        }
        let _ = std::fs::remove_dir(folder);
    }
}

impl<'a> PersonRun<'_, 'a> {
    fn present(&self) -> usize {
        self.tally.own + self.manifest.body.entries.len()
    }

    fn needed(&self) -> usize {
        self.context.settings.number.saturating_sub(self.present())
    }

    fn save_manifest(&self) -> Result<()> {
        Ok(self.manifest.write(&self.manifest_path)?)
    }

    fn collect(&mut self, own_photos: &[PathBuf], progress: &indicatif::ProgressBar) -> Result<()> {
        let settings = self.context.settings;
        if self.needed() == 0 || settings.offline {
            self.save_manifest()?;
            let present = self.present();
            if present == 0 {
                bail!(
                    "{} has no photos and --offline was given; put {}'s photos there, or leave out --offline",
                    self.folder.display(),
                    self.person.folder
                );
            }
            self.tally.notes.push(if settings.offline {
                format!("{present} photos present, nothing downloaded (--offline)")
            } else if self.tally.own > 0 && self.manifest.body.entries.is_empty() {
                format!("{} photos of your own, nothing downloaded", self.tally.own)
            } else {
                format!("{present} photos present, nothing to download")
            });
            return Ok(());
        }
        progress.set_position(self.present().min(settings.number) as u64);
        let identity = self.identity(progress);
        // Each own photo is read once: its hash keeps a copy of it from being downloaded, and
        // (the first few) its face joins the anchor.
        let mut reader = self.context.faces.get()?;
        let mut filter = reader.as_ref().map(|r| AnchorFilter::new(r.embedder()));
        progress.set_message("reading your photos");
        for (index, photo) in own_photos.iter().enumerate() {
            let Ok(bytes) = std::fs::read(photo) else {
                continue;
            };
            self.seen_hashes.insert(facefile::fs::sha256_bytes(&bytes));
            if let (Some(reader), Some(filter)) = (reader.as_mut(), filter.as_mut()) {
                if index < MAX_TRUSTED_OWN {
                    if let Looked::Face(face) = reader.look_at_bytes(&bytes) {
                        filter.trust(face);
                    }
                }
            }
        }
        self.filter = filter;
        let portrait_face = match &identity {
            Some(identity) => self.portrait(identity, progress)?,
            None => false,
        };
        if self.filter.as_ref().is_some_and(|f| f.trusted() == 0) {
            let portrait = if portrait_face {
                "the Wikidata portrait shows no usable face"
            } else {
                "no Wikidata portrait"
            };
            self.tally.notes.push(format!(
                "{portrait} and no photos of your own: the first downloads that agree with each \
                 other are the anchor"
            ));
        }

        let mut sources = sources_for(self.context, self.person, identity.as_ref());
        for source in sources.iter_mut() {
            if self.needed() == 0 || cli::interrupted() {
                break;
            }
            self.attempted += 1;
            self.download_from(source.as_mut(), progress)?;
        }
        // Whatever still waits for the anchor is decided now.
        if let Some(filter) = self.filter.as_mut() {
            let decided = filter.finish();
            for (candidate, verdict) in decided {
                self.settle(candidate, verdict)?;
            }
            progress.set_position(self.present().min(settings.number) as u64);
        }
        self.anchor_notes();
        self.save_manifest()?;
        if cli::interrupted() {
            bail!(
                "interrupted; {} is saved, run again to go on",
                self.manifest_path.display()
            );
        }
        if !self.reached && self.unreachable > 0 && self.unreachable >= self.attempted {
            let present = self.present();
            if present == 0 {
                bail!(
                    "no network: none of the image sources could be reached, and {} has no photos; \
                     check your internet connection, or put {}'s photos there yourself",
                    self.folder.display(),
                    self.person.folder
                );
            }
            self.tally.notes.push(format!(
                "no network: keeping the {present} photos present ({} of your own)",
                self.tally.own
            ));
        }
        Ok(())
    }

    /// The person's Wikidata item (recorded in the manifest), when a source or the anchor needs it.
    fn identity(&mut self, progress: &indicatif::ProgressBar) -> Option<Identity> {
        let settings = self.context.settings;
        if !settings.sources.contains(&SourceKind::Commons) && !self.context.faces.enabled() {
            return None;
        }
        progress.set_message("looking up Wikidata");
        let api = api(self.context, true);
        self.attempted += 1;
        match wikidata::look_up(&api, self.person) {
            Ok(Lookup::Found(identity)) => {
                self.reached = true;
                let groups = if identity.groups.is_empty() {
                    String::new()
                } else {
                    format!(", member of {}", identity.groups[0])
                };
                self.tally.notes.push(format!(
                    "Wikidata: {} ({}){groups}",
                    identity.label, identity.item
                ));
                self.manifest.body.item = Some(identity.item.clone());
                Some(identity)
            }
            Ok(Lookup::NotFound(reason)) => {
                self.reached = true;
                self.tally
                    .notes
                    .push(format!("{reason}; Wikimedia Commons is skipped"));
                None
            }
            Err(error) => {
                if error.is_unreachable() {
                    self.unreachable += 1;
                } else {
                    self.reached = true;
                }
                self.tally.notes.push(format!(
                    "Wikidata lookup failed ({error}); Wikimedia Commons is skipped"
                ));
                None
            }
        }
    }

    /// Downloads the Wikidata portrait (P18), keeps it as a photo and trusts its face; returns
    /// whether it was downloaded.
    fn portrait(&mut self, identity: &Identity, progress: &indicatif::ProgressBar) -> Result<bool> {
        let Some(name) = &identity.portrait else {
            return Ok(false);
        };
        progress.set_message("fetching the Wikidata portrait");
        let hit = match commons::file(&api(self.context, false), name) {
            Ok(Some(hit)) => hit,
            Ok(None) => return Ok(false),
            Err(error) => {
                self.tally.notes.push(format!(
                    "the portrait File:{name} could not be read ({error})"
                ));
                return Ok(false);
            }
        };
        let Fetched {
            hit,
            source,
            url,
            outcome,
        } = fetch_image(self.context.client, hit, "commons", self.context.settings);
        let Download {
            bytes,
            extension,
            image,
        } = match outcome {
            Ok(download) => download,
            Err(error) => {
                self.tally.notes.push(format!(
                    "the portrait File:{name} could not be downloaded ({error})"
                ));
                return Ok(false);
            }
        };
        if let Some(reader) = self.context.faces.get()? {
            if let (Looked::Face(face), Some(filter)) = (reader.look(image), self.filter.as_mut()) {
                filter.trust(face);
            }
        }
        self.seen_urls.insert(hit.url.clone());
        let sha256 = facefile::fs::sha256_bytes(&bytes);
        if self.seen_hashes.insert(sha256.clone()) {
            self.keep(Candidate {
                hit,
                source,
                url,
                bytes,
                extension,
                sha256,
            })?;
        }
        Ok(true)
    }

    /// Downloads from one source until the folder is full or the source runs dry.
    fn download_from(
        &mut self,
        source: &mut dyn Source,
        progress: &indicatif::ProgressBar,
    ) -> Result<()> {
        let settings = self.context.settings;
        let client = self.context.client;
        let name = source.name();
        // Each queued hit with its host (the unit of the connection limits).
        let mut queue: VecDeque<(String, Hit)> = VecDeque::new();
        let mut pages = 0;
        let mut source_done = false;
        let mut source_failed = false;
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        let mut failures_in_a_row: HashMap<String, usize> = HashMap::new();
        let mut dead_hosts: HashSet<String> = HashSet::new();
        let kept_before = self.tally.downloaded;
        std::thread::scope(|scope| -> Result<()> {
            let (job_tx, job_rx) = crossbeam_channel::unbounded::<Hit>();
            let (done_tx, done_rx) = crossbeam_channel::unbounded::<Fetched>();
            for _ in 0..settings.threads {
                let (jobs, done) = (job_rx.clone(), done_tx.clone());
                scope.spawn(move || {
                    for hit in jobs {
                        if done.send(fetch_image(client, hit, name, settings)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut running = 0usize;
            loop {
                let waiting = self.filter.as_ref().map_or(0, |f| f.waiting());
                let wanted = self.needed().saturating_sub(waiting + running);
                // Feed the workers: the first queued hit whose host has a free connection.
                if wanted > 0 && running < settings.threads && !cli::interrupted() {
                    let free = queue.iter().position(|(host, hit)| {
                        in_flight.get(host).copied().unwrap_or(0) < hit.host_limit
                    });
                    if let Some(index) = free {
                        let (host, hit) = queue.remove(index).expect("index from position");
                        *in_flight.entry(host).or_default() += 1;
                        running += 1;
                        job_tx.send(hit).expect("workers outlive the queue");
                        continue;
                    }
                    if queue.is_empty() && !source_done && pages < settings.max_pages {
                        progress.set_message(format!("{name} page {}", pages + 1));
                        pages += 1;
                        match source.next_page() {
                            Ok(Some(hits)) => {
                                self.reached = true;
                                queue.extend(
                                    hits.into_iter()
                                        .filter(|hit| self.seen_urls.insert(hit.url.clone()))
                                        .map(|hit| (host_of(&hit.url), hit)),
                                );
                            }
                            Ok(None) => source_done = true,
                            Err(error) => {
                                source_done = true;
                                source_failed = true;
                                self.source_failed(name, &error);
                            }
                        }
                        continue;
                    }
                }
                if running == 0 {
                    // Nothing more to fetch from here: whatever waits for the anchor is decided
                    // now, and any room it leaves is filled from the queue.
                    if let Some(filter) = self.filter.as_mut().filter(|f| f.waiting() > 0) {
                        for (candidate, verdict) in filter.finish() {
                            self.settle(candidate, verdict)?;
                        }
                        continue;
                    }
                    break;
                }
                let fetched = done_rx.recv().expect("a worker answers every job");
                running -= 1;
                let host = host_of(&fetched.hit.url);
                if let Some(n) = in_flight.get_mut(&host) {
                    *n -= 1;
                }
                match &fetched.outcome {
                    Err(FetchError::Unreachable { .. } | FetchError::GaveUp { .. }) => {
                        let count = failures_in_a_row.entry(host.clone()).or_default();
                        *count += 1;
                        if *count >= DEAD_HOST_FAILURES && dead_hosts.insert(host.clone()) {
                            let before = queue.len();
                            queue.retain(|(queued, _)| *queued != host);
                            self.tally.failed += before - queue.len();
                        }
                    }
                    _ => {
                        failures_in_a_row.insert(host, 0);
                    }
                }
                self.receive(fetched)?;
                progress.set_position(self.present().min(settings.number) as u64);
            }
            drop(job_tx);
            Ok(())
        })?;
        let from_source = self.tally.downloaded - kept_before;
        if self.needed() > 0 && !cli::interrupted() && !source_failed {
            self.tally
                .notes
                .push(format!("{name} ran dry after {from_source} new photos"));
        }
        if !dead_hosts.is_empty() {
            let mut hosts: Vec<&String> = dead_hosts.iter().collect();
            hosts.sort();
            self.tally.notes.push(format!(
                "skipped the rest of {} host(s) that stopped answering: {}",
                hosts.len(),
                hosts
                    .iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }

    fn source_failed(&mut self, name: &str, error: &SourceError) {
        if error.is_unreachable() {
            self.unreachable += 1;
        } else {
            self.reached = true;
        }
        self.tally.notes.push(format!(
            "{name} failed ({error}); going on with the next source"
        ));
    }

    /// A finished download: deduplicated, checked against the anchor, kept or quarantined.
    fn receive(&mut self, fetched: Fetched) -> Result<()> {
        let Download {
            bytes,
            extension,
            image,
        } = match fetched.outcome {
            Ok(download) => download,
            Err(error) => {
                self.tally.failed += 1;
                if matches!(error, FetchError::Unreachable { .. }) {
                    // A dead host is not the URL's fault: it is not recorded.
                    return Ok(());
                }
                self.manifest.body.failed.push(FailedUrl {
                    url: fetched.hit.url,
                    source: fetched.source.into(),
                    reason: error.to_string(),
                    permanent: error.is_permanent(),
                });
                return Ok(());
            }
        };
        self.reached = true;
        let sha256 = facefile::fs::sha256_bytes(&bytes);
        if !self.seen_hashes.insert(sha256.clone()) {
            self.tally.duplicates += 1;
            return Ok(());
        }
        let candidate = Candidate {
            hit: fetched.hit,
            source: fetched.source,
            url: fetched.url,
            bytes,
            extension,
            sha256,
        };
        let looked = match self.context.faces.get()? {
            Some(reader) => reader.look(image),
            None => return self.keep(candidate),
        };
        let decided = match looked {
            Looked::Unusable(reason) => vec![(candidate, Verdict::Reject { reason })],
            Looked::Face(face) => self
                .filter
                .as_mut()
                .expect("a filter with a face reader")
                .offer(candidate, face),
        };
        for (candidate, verdict) in decided {
            self.settle(candidate, verdict)?;
        }
        Ok(())
    }

    fn settle(&mut self, candidate: Candidate, verdict: Verdict) -> Result<()> {
        match verdict {
            Verdict::Keep { .. } => self.keep(candidate),
            Verdict::Reject { reason } => self.reject(candidate, &reason),
        }
    }

    fn keep(&mut self, candidate: Candidate) -> Result<()> {
        let name = format!("{}.{}", &candidate.sha256[..16], candidate.extension);
        let size = candidate.bytes.len() as u64;
        // The entry is recorded before the photo is put in place: killed in between, the next run
        // finds an entry without its file and downloads it again, rather than a photo whose URL,
        // licence and author are lost (and which would pass for the user's own).
        self.manifest.body.entries.push(ManifestEntry {
            file: name.clone(),
            url: candidate.url,
            source: candidate.source.to_string(),
            page: candidate.hit.page,
            licence: candidate.hit.licence,
            author: candidate.hit.author,
            title: candidate.hit.title,
            sha256: candidate.sha256,
            size,
        });
        self.save_manifest()?;
        if let Err(error) = facefile::fs::write_atomic(&self.folder.join(&name), &candidate.bytes) {
            self.manifest.body.entries.pop();
            self.save_manifest()?;
            return Err(error.into());
        }
        self.tally.downloaded += 1;
        self.tally.count(candidate.source);
        Ok(())
    }

    fn reject(&mut self, candidate: Candidate, reason: &str) -> Result<()> {
        let name = format!("{}.{}", &candidate.sha256[..16], candidate.extension);
        let full_reason = format!("{reason} (from {})", candidate.url);
        self.quarantine
            .write_in(&candidate.bytes, &name, &self.person.folder, &full_reason)
            .with_context(|| format!("cannot write to {}", self.quarantine.root().display()))?;
        self.manifest.body.failed.push(FailedUrl {
            url: candidate.hit.url,
            source: candidate.source.into(),
            reason: format!("quarantined: {reason}"),
            permanent: true,
        });
        self.tally.quarantined += 1;
        self.save_manifest()
    }

    fn anchor_notes(&mut self) {
        let Some(filter) = &self.filter else { return };
        let Some(summary) = filter.summary().cloned() else {
            return;
        };
        let photos = summary.trusted + summary.agreeing;
        self.tally.notes.push(if summary.learned {
            format!(
                "anchor: {} trusted + {} agreeing download(s); faces kept within {:.3} of their mean \
                 (learned from these {photos} photos)",
                summary.trusted, summary.agreeing, summary.limit
            )
        } else if summary.trusted == 0 {
            format!(
                "no anchor: fewer than 3 downloads agreed with each other, so nothing was filtered \
                 by face; check the photos in {}",
                self.folder.display()
            )
        } else {
            format!(
                "anchor of {photos} photo(s) only: the model's published distance {:.3} was used, \
                 which does not separate look-alikes; check the photos or add a few of your own",
                summary.limit
            )
        });
        if self.tally.quarantined > 0 {
            self.tally.notes.push(format!(
                "{} download(s) quarantined in {} (reasons in log.tsv)",
                self.tally.quarantined,
                self.quarantine.root().join(&self.person.folder).display()
            ));
        }
    }
}

/// Downloads a hit (its fallback if the full image fails) and decodes it: the bytes must be a
/// complete image, whatever the `Content-Type` said. Runs on the workers; the decoding options
/// are the face reader's (`FaceReader::new`), so its pixels are what the encoder will see.
fn fetch_image(client: &Client, hit: Hit, source: &'static str, settings: &Settings) -> Fetched {
    let get = |url: &str| -> Result<Download, FetchError> {
        let request = Request::new(url, hit.manners, settings.retries, settings.max_bytes)
            .accept(ACCEPT_IMAGE)
            .referer_after_403(hit.page.as_deref());
        let response = client.get(&request)?;
        let decoded = facecore::decode_bytes(&response.body, &FaceReader::decode_options())
            .map_err(|e| FetchError::Permanent(format!("not a usable image: {e}")))?;
        Ok(Download {
            extension: extension_of(decoded.format),
            image: decoded.image,
            bytes: response.body,
        })
    };
    let mut outcome = get(&hit.url);
    let mut url = hit.url.clone();
    // The full image failed (a dead or refusing host, a page instead of an image): the
    // source's own smaller copy will do for a face.
    if let (Err(_), Some(fallback)) = (&outcome, &hit.fallback) {
        if let Ok(download) = get(fallback) {
            outcome = Ok(download);
            url = fallback.clone();
        }
    }
    Fetched {
        hit,
        source,
        url,
        outcome,
    }
}

fn extension_of(format: &str) -> &'static str {
    match format {
        "JPEG" => "jpg",
        "PNG" => "png",
        "GIF" => "gif",
        "WebP" => "webp",
        "BMP" => "bmp",
        "TIFF" => "tiff",
        _ => "img",
    }
}

pub(crate) fn api<'a>(context: &Shared<'a>, wikidata: bool) -> Api<'a> {
    let (base, service) = if wikidata {
        (&context.endpoints.wikidata, "Wikidata")
    } else {
        (&context.endpoints.commons, "Wikimedia Commons")
    };
    Api {
        client: context.client,
        base: base.clone(),
        service,
        retries: context.settings.retries,
    }
}

/// The person's sources, in the order asked for (`--urls` first).
fn sources_for<'a>(
    context: &Shared<'a>,
    person: &Person,
    identity: Option<&Identity>,
) -> Vec<Box<dyn Source + 'a>> {
    let (settings, endpoints, client) = (context.settings, context.endpoints, context.client);
    let mut sources: Vec<Box<dyn Source + 'a>> = Vec::new();
    if let Some(text) = &settings.urls {
        sources.push(Box::new(UrlList::new(text)));
    }
    for kind in &settings.sources {
        match kind {
            SourceKind::Commons => {
                if let Some(identity) = identity {
                    sources.push(Box::new(Commons::new(
                        api(context, false),
                        identity.clone(),
                        person.name(),
                    )));
                }
            }
            SourceKind::Bing => {
                sources.push(Box::new(Bing::new(client, &endpoints.bing, &person.query)))
            }
            SourceKind::DuckDuckGo => sources.push(Box::new(DuckDuckGo::new(
                client,
                context.duckduckgo,
                &endpoints.duckduckgo,
                &person.query,
            ))),
            SourceKind::Urls => {}
        }
    }
    sources
}

//! `downloader`: photos of each person into `data/<person>/`, named by content, resumably.

mod fetch;
mod sources;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use cli::QuietArg;
use facefile::format::manifest::{FailedUrl, Manifest, ManifestEntry, ManifestFile, MANIFEST_FILE};
use facefile::Stamped;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use fetch::{Client, DownloadedImage, FetchError, FetchSettings};
use sources::{Bing, DuckDuckGo, Hit, ImageSource, UrlList, Wikimedia};

/// Download photos of a person (or of everyone in a list) into DATA/<person>/.
///
/// Images come from Wikimedia Commons (with licences), DuckDuckGo and Bing image results, or a list
/// of URLs; when a source fails or runs dry the next one is used. Files are named by the hash of
/// their content, checked to be real images, and recorded in DATA/<person>/manifest.msgpack, so a
/// second run continues towards -n without downloading anything twice.
#[derive(Parser, Debug)]
#[command(
    name = "downloader",
    version,
    about,
    long_about,
    after_help = "Examples:\n  downloader -k \"Jihyo\" -n 50\n  downloader --people members.txt -n 50      # lines: Jihyo = \"TWICE Jihyo face\"\n  downloader -k Jihyo --urls my-links.txt --sources urls"
)]
struct Args {
    /// The person to search for (also the folder name unless --dir-name is given).
    #[arg(
        short = 'k',
        long = "keyword",
        value_name = "NAME",
        required_unless_present = "people"
    )]
    keyword: Option<String>,

    /// A file with one person per line, optionally with a search query: `Jihyo = "TWICE Jihyo"`.
    #[arg(long, value_name = "FILE", conflicts_with = "keyword")]
    people: Option<PathBuf>,

    /// How many photos each person's folder should hold.
    #[arg(short = 'n', long = "number", value_name = "N", default_value_t = 50)]
    number: usize,

    /// Where the person folders go (`-o/--output` is the original script's name for it).
    #[arg(
        short = 'd',
        long = "data-dir",
        short_alias = 'o',
        alias = "output",
        value_name = "DIR",
        default_value = "data"
    )]
    output: PathBuf,

    /// Folder name for -k (default: the keyword).
    #[arg(long, value_name = "NAME", requires = "keyword")]
    dir_name: Option<String>,

    /// Sources to use, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [SourceArg::Wikimedia, SourceArg::Duckduckgo, SourceArg::Bing])]
    sources: Vec<SourceArg>,

    /// A file of image URLs (one per line); adds the `urls` source first.
    #[arg(long, value_name = "FILE")]
    urls: Option<PathBuf>,

    /// Base URL of the Wikimedia Commons API.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://commons.wikimedia.org"
    )]
    wikimedia_url: String,

    /// Base URL of DuckDuckGo.
    #[arg(long, value_name = "URL", default_value = "https://duckduckgo.com")]
    duckduckgo_url: String,

    /// Base URL of Bing.
    #[arg(long, value_name = "URL", default_value = "https://www.bing.com")]
    bing_url: String,

    /// Downloads at the same time.
    #[arg(short = 'j', long = "threads", alias = "concurrency", value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=32))]
    concurrency: u32,

    /// Seconds before a request is abandoned.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    timeout: f64,

    /// Retries after a timeout, a server error or a 429.
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,

    /// First wait before a retry, in milliseconds (doubled each time).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    backoff_ms: u64,

    /// Largest image accepted, in megabytes.
    #[arg(long, value_name = "MB", default_value_t = 15.0)]
    max_size_mb: f64,

    /// Use only the photos already in the folders; never touch the network.
    #[arg(long)]
    offline: bool,

    /// Result pages asked of each source before moving on.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_pages: usize,

    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    Wikimedia,
    Duckduckgo,
    Bing,
    Urls,
}

/// A person to download, with the folder and the query.
#[derive(Debug, Clone, PartialEq)]
struct Person {
    folder: String,
    query: String,
}

/// `Name` or `Name = query` (the query may be quoted); blank lines and `#` comments are skipped.
fn parse_people(text: &str) -> Result<Vec<Person>> {
    let mut people = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, query) = match line.split_once('=') {
            Some((name, query)) => (name.trim(), query.trim().trim_matches('"').trim()),
            None => (line, line),
        };
        if name.is_empty() || query.is_empty() {
            bail!(
                "line {}: expected `Name` or `Name = \"search query\"`, got {line:?}",
                number + 1
            );
        }
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            bail!("line {}: {name:?} cannot be a folder name", number + 1);
        }
        people.push(Person {
            folder: name.to_string(),
            query: query.to_string(),
        });
    }
    if people.is_empty() {
        bail!("no people in the list");
    }
    Ok(people)
}

fn main() {
    cli::main(run)
}

/// What happened for one person.
#[derive(Debug, Default)]
struct Tally {
    /// Photos the user put in the folder (not from a download).
    own: usize,
    had: usize,
    downloaded: usize,
    duplicates: usize,
    failed: usize,
    per_source: Vec<(&'static str, usize)>,
    notes: Vec<String>,
}

impl Tally {
    fn count(&mut self, source: &'static str) {
        match self.per_source.iter_mut().find(|(name, _)| *name == source) {
            Some((_, n)) => *n += 1,
            None => self.per_source.push((source, 1)),
        }
    }
}

fn run(args: Args) -> Result<()> {
    let people = match (&args.keyword, &args.people) {
        (Some(keyword), _) => {
            let folder = args.dir_name.clone().unwrap_or_else(|| keyword.clone());
            if folder.contains(['/', '\\'])
                || folder.starts_with('.')
                || folder.trim().is_empty()
                || folder.chars().any(char::is_control)
            {
                let (flag, advice) = match &args.dir_name {
                    Some(_) => ("--dir-name", "give a plain name such as Jihyo"),
                    None => ("-k", "give a plain folder name with --dir-name"),
                };
                bail!(
                    "{flag} {folder:?} cannot be a person's folder name (no slash, no leading dot, \
                     no line break); {advice}"
                );
            }
            vec![Person {
                folder,
                query: keyword.clone(),
            }]
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_people(&text).with_context(|| format!("in {}", path.display()))?
        }
        (None, None) => unreachable!("clap requires one"),
    };
    let mut sources: Vec<Box<dyn ImageSource>> = Vec::new();
    if let Some(path) = &args.urls {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let urls: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        sources.push(Box::new(UrlList { urls }));
    }
    for source in &args.sources {
        match source {
            SourceArg::Wikimedia => sources.push(Box::new(Wikimedia {
                base_url: args.wikimedia_url.clone(),
            })),
            SourceArg::Duckduckgo => sources.push(Box::new(DuckDuckGo {
                base_url: args.duckduckgo_url.clone(),
            })),
            SourceArg::Bing => sources.push(Box::new(Bing {
                base_url: args.bing_url.clone(),
            })),
            SourceArg::Urls if args.urls.is_none() => bail!("--sources urls needs --urls FILE"),
            SourceArg::Urls => {}
        }
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let client = Client::new(FetchSettings {
        timeout: Duration::from_secs_f64(args.timeout.max(0.1)),
        retries: args.retries,
        backoff: Duration::from_millis(args.backoff_ms),
        max_retry_after: Duration::from_secs(30),
        max_bytes: (args.max_size_mb * 1e6) as u64,
    });
    let bars = MultiProgress::with_draw_target(if args.quiet.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let mut tallies = Vec::new();
    for person in &people {
        let bar = bars.add(ProgressBar::new(args.number as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {wide_msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(person.folder.clone());
        let tally = download_person(&args, &client, &sources, person, &bar)?;
        bar.finish();
        tallies.push((person, tally));
    }
    if !args.quiet.quiet {
        println!(
            "{:<14} {:>6} {:>10} {:>10} {:>7}  sources",
            "person", "total", "downloaded", "duplicates", "failed"
        );
        for (person, tally) in &tallies {
            let sources: Vec<String> = tally
                .per_source
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect();
            println!(
                "{:<14} {:>6} {:>10} {:>10} {:>7}  {}",
                person.folder,
                tally.own + tally.had + tally.downloaded,
                tally.downloaded,
                tally.duplicates,
                tally.failed,
                sources.join(", ")
            );
            for note in &tally.notes {
                println!("  {}: {note}", person.folder);
            }
        }
    }
    Ok(())
}

fn download_person(
    args: &Args,
    client: &Client,
    sources: &[Box<dyn ImageSource>],
    person: &Person,
    bar: &ProgressBar,
) -> Result<Tally> {
    let folder = args.output.join(&person.folder);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let manifest_path = folder.join(MANIFEST_FILE);
    let mut file: ManifestFile = if manifest_path.exists() {
        ManifestFile::read(&manifest_path)?
    } else {
        Stamped::new(
            format!("downloader {}", env!("CARGO_PKG_VERSION")),
            None,
            Manifest::new(&person.folder, &person.query),
        )
    };
    // Entries whose file the user deleted no longer count.
    file.body.entries.retain(|e| folder.join(&e.file).is_file());
    // Photos the user put there count too: a folder of one's own photos needs no network.
    let downloaded: HashSet<std::path::PathBuf> = file
        .body
        .entries
        .iter()
        .map(|e| folder.join(&e.file))
        .collect();
    let own = facecore::dataset::photos_in(&folder)
        .into_iter()
        .filter(|p| !downloaded.contains(p))
        .count();
    let mut tally = Tally {
        own,
        had: file.body.entries.len(),
        ..Default::default()
    };
    let present = |file: &ManifestFile| own + file.body.entries.len();
    if present(&file) >= args.number || args.offline {
        file.write(&manifest_path)?;
        if present(&file) == 0 {
            bail!(
                "{} has no photos and --offline was given; put {}'s photos there, or leave out --offline",
                folder.display(),
                person.folder
            );
        }
        tally.notes.push(if args.offline {
            format!(
                "{} photos present, nothing downloaded (--offline)",
                present(&file)
            )
        } else if own > 0 && file.body.entries.is_empty() {
            format!("{own} photos of your own, nothing downloaded")
        } else {
            format!("{} photos present, nothing to download", present(&file))
        });
        return Ok(tally);
    }
    let mut seen_urls: HashSet<String> = file
        .body
        .entries
        .iter()
        .map(|e| e.url.clone())
        .chain(file.body.failed.iter().map(|f| f.url.clone()))
        .collect();
    let mut seen_hashes: HashSet<String> =
        file.body.entries.iter().map(|e| e.sha256.clone()).collect();
    bar.set_position(tally.had.min(args.number) as u64);
    let mut unreachable = 0;
    'sources: for source in sources {
        let mut from_source = 0;
        for page in 0..args.max_pages {
            let needed = args.number.saturating_sub(present(&file));
            if needed == 0 {
                break 'sources;
            }
            bar.set_message(format!("{} page {}", source.name(), page + 1));
            let results = match source.search(client, &person.query, page) {
                Ok(results) => results,
                Err(error) => {
                    if matches!(error, FetchError::Unreachable(_)) {
                        unreachable += 1;
                    }
                    tally.notes.push(format!(
                        "{} failed ({error}); going on with the next source",
                        source.name()
                    ));
                    continue 'sources;
                }
            };
            let mut queue: std::collections::VecDeque<Hit> = results
                .hits
                .into_iter()
                .filter(|h| seen_urls.insert(h.url.clone()))
                .collect();
            while !queue.is_empty() {
                let needed = args.number.saturating_sub(present(&file));
                if needed == 0 {
                    break 'sources;
                }
                // Never more downloads in flight than photos still needed, so -n is not overshot.
                let take = needed.min(args.concurrency as usize).min(queue.len());
                let batch: Vec<Hit> = queue.drain(..take).collect();
                let results: Vec<(Hit, Result<DownloadedImage, FetchError>)> =
                    std::thread::scope(|scope| {
                        let handles: Vec<_> = batch
                            .iter()
                            .map(|hit| scope.spawn(move || (hit.clone(), client.image(&hit.url))))
                            .collect();
                        handles
                            .into_iter()
                            .map(|h| h.join().expect("download thread panicked"))
                            .collect()
                    });
                for (hit, result) in results {
                    match result {
                        Ok(DownloadedImage { bytes, extension }) => {
                            let sha = facefile::fs::sha256_bytes(&bytes);
                            if !seen_hashes.insert(sha.clone()) {
                                tally.duplicates += 1;
                                continue;
                            }
                            let name = format!("{}.{extension}", &sha[..16]);
                            facefile::fs::write_atomic(&folder.join(&name), &bytes)?;
                            file.body.entries.push(ManifestEntry {
                                file: name,
                                url: hit.url,
                                source: source.name().to_string(),
                                page: hit.page,
                                licence: hit.licence,
                                author: None,
                                title: hit.title,
                                sha256: sha,
                                size: bytes.len() as u64,
                            });
                            tally.downloaded += 1;
                            from_source += 1;
                            tally.count(source.name());
                            bar.inc(1);
                        }
                        Err(error) => {
                            tally.failed += 1;
                            if let FetchError::Permanent(reason) = &error {
                                file.body.failed.push(FailedUrl {
                                    url: hit.url,
                                    source: source.name().into(),
                                    reason: reason.clone(),
                                });
                            }
                        }
                    }
                }
                // Saved after every batch: an interrupted run resumes from here.
                file.write(&manifest_path)?;
            }
            if !results.more {
                break;
            }
        }
        if present(&file) < args.number {
            tally.notes.push(format!(
                "{} ran dry after {from_source} new photos",
                source.name()
            ));
        }
    }
    file.write(&manifest_path)?;
    if unreachable == sources.len() && tally.downloaded == 0 && present(&file) < args.number {
        if present(&file) == 0 {
            bail!(
                "no network: none of the image sources could be reached, and {} has no photos; \
                 check your internet connection, or put {}'s photos there yourself",
                folder.display(),
                person.folder
            );
        }
        tally.notes.push(format!(
            "no network: keeping the {} photos present ({own} of your own)",
            present(&file)
        ));
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_lists() {
        let people =
            parse_people("# TWICE\nNayeon\nJihyo = \"TWICE Jihyo face\"\n\n나연 = 임나연\n")
                .unwrap();
        assert_eq!(
            people[0],
            Person {
                folder: "Nayeon".into(),
                query: "Nayeon".into()
            }
        );
        assert_eq!(
            people[1],
            Person {
                folder: "Jihyo".into(),
                query: "TWICE Jihyo face".into()
            }
        );
        assert_eq!(
            people[2],
            Person {
                folder: "나연".into(),
                query: "임나연".into()
            }
        );
        assert!(parse_people("../etc = x").is_err());
        assert!(parse_people("# nobody\n").is_err());
    }
}

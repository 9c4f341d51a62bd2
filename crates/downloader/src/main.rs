//! `downloader`: the command line over the `downloader` library.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, ValueEnum};
use cli::{DetectionArgs, ModelsArg, QuietArg};
use facecore::{FaceAnalyzer, ModelDir};
use facefile::EmbedderKind;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use downloader::anchor::{FaceReader, LazyFaceReader};
use downloader::collect::{collect_person, Endpoints, Settings, Shared, SourceKind, Tally};
use downloader::people::{parse_people, Person};
use downloader::sources::duckduckgo::DuckDuckGoState;
use downloader::transport::{tool_user_agent, Client, TransportSettings};

/// Download photos of a person (or of everyone in a list) into DATA/<person>/.
///
/// The person is first looked up on Wikidata (choosing, among namesakes, the one who is a member
/// of the group the query names); their portrait and the Wikimedia Commons files that depict them
/// come first, with licence and author. Bing's image results top the folder up. Every download's
/// main face is compared with the person's portrait and own photos (the anchor): other members,
/// group shots and look-alikes go to DATA/.quarantine/ with the reason. Files are named by
/// content and recorded in DATA/<person>/manifest.msgpack, so a second run goes on towards -n
/// without downloading anything twice.
///
/// With --strangers N it also fetches a few photos each of N people who are not members: members
/// of other groups like the group (same kind and genre on Wikidata), into DATA/.strangers/<name>/,
/// the same way. The trainer sets its bar on them: when a face is too unlike every member to be
/// named.
#[derive(Parser, Debug)]
#[command(
    name = "downloader",
    version,
    about,
    long_about,
    after_help = "Examples:\n  downloader -k \"TWICE Jihyo\" --dir-name Jihyo -n 50\n  downloader --strangers 40 --group TWICE              # other groups' members, 3 photos each\n  downloader --people members.txt -n 50      # lines: Jihyo = \"TWICE Jihyo\"  (optionally @Q… for the Wikidata item)\n  downloader -k Jihyo --urls my-links.txt --sources urls\n\nSources: Wikidata and Wikimedia Commons are official APIs (free licences, recorded per photo);\nBing and DuckDuckGo are scraped result pages (no licence; their terms do not allow scraping)."
)]
struct Args {
    /// What to search for, e.g. "TWICE Jihyo" (also the folder name unless --dir-name is given).
    #[arg(
        short = 'k',
        long = "keyword",
        value_name = "QUERY",
        required_unless_present_any = ["people", "strangers"]
    )]
    keyword: Option<String>,

    /// A file with one person per line: `Jihyo`, `Jihyo = "TWICE Jihyo"`, or
    /// `Jihyo = "TWICE Jihyo" @Q…` to give the Wikidata item.
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
    data_dir: PathBuf,

    /// Also download photos of this many people who are not members (members of other groups
    /// like the group) into DATA/.strangers/<name>/, for the trainer to set its bar on.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=500))]
    strangers: Option<u32>,

    /// Photos of each stranger.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    stranger_photos: u32,

    /// The group the strangers must not belong to, as Wikidata names it [default: the words of
    /// the first query that are not the person's name, e.g. TWICE in "TWICE Jihyo"].
    #[arg(long, value_name = "NAME")]
    group: Option<String>,

    /// Folder name for -k (default: the query).
    #[arg(long, value_name = "NAME", requires = "keyword")]
    dir_name: Option<String>,

    /// Sources to use, in order. duckduckgo is off by default: its bot protection blocks tools.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [SourceArg::Commons, SourceArg::Bing])]
    sources: Vec<SourceArg>,

    /// A file of image URLs (one per line); used before the other sources.
    #[arg(long, value_name = "FILE")]
    urls: Option<PathBuf>,

    /// Keep every download without comparing its face with the person's (faster, no models
    /// needed, but other members and group shots stay in the folder).
    #[arg(long)]
    no_anchor: bool,

    /// An e-mail address or web page for Wikimedia's User-Agent policy, which asks every tool
    /// for a way to reach its user.
    #[arg(long, value_name = "CONTACT", env = "FACELABEL_CONTACT")]
    contact: Option<String>,

    /// Try again the URLs an earlier run gave up on for good (404, not an image, quarantined).
    /// Refusals and rate limits are always tried again.
    #[arg(long)]
    retry_failed: bool,

    /// Use only the photos already in the folders; never touch the network.
    #[arg(long)]
    offline: bool,

    /// Downloads at the same time (at most 2 per host for Wikimedia's file server, 4 elsewhere).
    #[arg(short = 'j', long = "threads", alias = "concurrency", value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=32))]
    threads: u32,

    /// Seconds before a request is abandoned.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    timeout: f64,

    /// Retries after a timeout, a server error or a 429 (search engines get one).
    #[arg(long, value_name = "N", default_value_t = 3)]
    retries: u32,

    /// First wait before a retry, in milliseconds (doubled each time).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    backoff_ms: u64,

    /// Longest Retry-After a server may ask this run to wait, in seconds.
    #[arg(long, value_name = "S", default_value_t = 30)]
    max_retry_after: u64,

    /// Largest image accepted, in megabytes.
    #[arg(long, value_name = "MB", default_value_t = 15.0)]
    max_size_mb: f64,

    /// Result pages asked of each source before moving on.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_pages: usize,

    /// Wikidata (person lookup).
    #[arg(long, value_name = "URL", default_value = "https://www.wikidata.org")]
    wikidata_url: String,

    /// Wikimedia Commons (the person's files).
    #[arg(
        long,
        alias = "wikimedia-url",
        value_name = "URL",
        default_value = "https://commons.wikimedia.org"
    )]
    commons_url: String,

    /// Bing.
    #[arg(long, value_name = "URL", default_value = "https://www.bing.com")]
    bing_url: String,

    /// DuckDuckGo.
    #[arg(long, value_name = "URL", default_value = "https://duckduckgo.com")]
    duckduckgo_url: String,

    #[command(flatten)]
    models: ModelsArg,

    #[command(flatten)]
    detection: DetectionArgs,

    #[command(flatten)]
    quiet: QuietArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SourceArg {
    /// Wikimedia Commons, by the person's Wikidata item.
    #[value(alias = "wikimedia")]
    Commons,
    Bing,
    Duckduckgo,
    /// The --urls file.
    Urls,
}

fn main() {
    cli::main(run)
}

fn run(args: Args) -> Result<()> {
    let people = match (&args.keyword, &args.people) {
        (Some(keyword), _) => vec![Person::from_keyword(keyword, args.dir_name.as_deref())
            .map_err(|e| {
                let flag = if args.dir_name.is_some() {
                    "--dir-name"
                } else {
                    "-k"
                };
                anyhow::anyhow!(
                    "{flag}: {e}; give a plain folder name such as Jihyo with --dir-name"
                )
            })?],
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_people(&text).with_context(|| format!("in {}", path.display()))?
        }
        (None, None) => Vec::new(),
    };
    let group = match (&args.group, people.first()) {
        (Some(group), _) => Some(group.clone()),
        (None, Some(first)) => Some(first.context_words().join(" ")).filter(|g| !g.is_empty()),
        (None, None) => None,
    };
    cli::usage_ensure(args.strangers.is_none() || group.is_some(), || {
        "--strangers needs the group their people must not belong to: give --group NAME (e.g. \
         --group TWICE), or a query that names it (-k \"TWICE Jihyo\")"
            .into()
    })?;
    let urls = match &args.urls {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None if args.sources.contains(&SourceArg::Urls) => {
            anyhow::bail!("--sources urls needs --urls FILE")
        }
        None => None,
    };
    let sources = args
        .sources
        .iter()
        .map(|s| match s {
            SourceArg::Commons => SourceKind::Commons,
            SourceArg::Bing => SourceKind::Bing,
            SourceArg::Duckduckgo => SourceKind::DuckDuckGo,
            SourceArg::Urls => SourceKind::Urls,
        })
        .collect();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let settings = Settings {
        data_dir: args.data_dir.clone(),
        number: args.number,
        threads: args.threads as usize,
        retries: args.retries,
        max_bytes: (args.max_size_mb * 1e6) as u64,
        max_pages: args.max_pages,
        offline: args.offline,
        retry_failed: args.retry_failed,
        sources,
        urls,
    };
    let endpoints = Endpoints {
        wikidata: args.wikidata_url.clone(),
        commons: args.commons_url.clone(),
        bing: args.bing_url.clone(),
        duckduckgo: args.duckduckgo_url.clone(),
    };
    let client = Client::new(TransportSettings {
        timeout: Duration::from_secs_f64(args.timeout.max(0.1)),
        backoff: Duration::from_millis(args.backoff_ms),
        max_retry_after: Duration::from_secs(args.max_retry_after),
        tool_user_agent: tool_user_agent(args.contact.as_deref()),
    });
    let faces = if args.no_anchor {
        LazyFaceReader::off()
    } else {
        let analysis = args.detection.settings(EmbedderKind::Sface, 1)?;
        let models_dir = args.models.models_dir.clone();
        LazyFaceReader::new(move || {
            let advice =
                "the anchor face filter needs the face models: run `make models` (or point \
                          --models-dir at them), or pass --no-anchor to keep downloads unchecked";
            let models = ModelDir::new(&models_dir);
            models.verify_for(&analysis).context(advice)?;
            let analyzer = FaceAnalyzer::load(&models, analysis).context(advice)?;
            Ok(FaceReader::new(analyzer))
        })
    };
    let duckduckgo = DuckDuckGoState::default();
    let mut context = Shared {
        client: &client,
        settings: &settings,
        endpoints: &endpoints,
        duckduckgo: &duckduckgo,
        faces,
    };
    let bars = MultiProgress::with_draw_target(if args.quiet.quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let mut tallies: Vec<(&Person, Tally)> = Vec::new();
    for person in &people {
        let bar = bars.add(ProgressBar::new(args.number as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {wide_msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_prefix(person.folder.clone());
        let tally = collect_person(&mut context, person, &bar)?;
        bar.finish_and_clear();
        tallies.push((person, tally));
    }
    if args.contact.is_none()
        && !args.offline
        && settings.sources.contains(&SourceKind::Commons)
        && !args.quiet.quiet
    {
        eprintln!(
            "note: Wikimedia asks every tool for a contact; pass --contact you@example.org (or set \
             FACELABEL_CONTACT) to be a good citizen and avoid being rate limited"
        );
    }
    let mut stranger_tallies: Vec<(Person, Tally)> = Vec::new();
    let mut stranger_notes: Vec<String> = Vec::new();
    if let (Some(wanted), Some(group)) = (args.strangers, &group) {
        if args.offline {
            stranger_notes.push("offline: no strangers downloaded".into());
        } else {
            match downloader::strangers::plan(&context, group, wanted as usize, &people) {
                Ok(plan) => {
                    stranger_notes.extend(plan.notes);
                    let stranger_settings = Settings {
                        data_dir: args.data_dir.join(downloader::strangers::FOLDER),
                        number: args.stranger_photos as usize,
                        ..settings.clone()
                    };
                    let mut strangers_context = Shared {
                        settings: &stranger_settings,
                        ..context
                    };
                    for person in plan.people {
                        if cli::interrupted() {
                            break;
                        }
                        let bar = bars.add(ProgressBar::new(args.stranger_photos as u64));
                        bar.set_prefix(person.folder.clone());
                        let tally = collect_person(&mut strangers_context, &person, &bar)?;
                        bar.finish_and_clear();
                        stranger_tallies.push((person, tally));
                    }
                }
                Err(error) => stranger_notes.push(format!(
                    "the strangers could not be looked up ({error}); none downloaded"
                )),
            }
        }
    }
    if !args.quiet.quiet {
        print_summary(tallies.iter().map(|(p, t)| (*p, t)));
        if args.strangers.is_some() {
            println!(
                "\nstrangers (people who are not members) → {}",
                args.data_dir.join(downloader::strangers::FOLDER).display()
            );
            for note in &stranger_notes {
                println!("  {note}");
            }
            print_summary(stranger_tallies.iter().map(|(p, t)| (p, t)));
        }
    }
    let empty: Vec<&str> = tallies
        .iter()
        .filter(|(_, tally)| tally.total() == 0)
        .map(|(person, _)| person.folder.as_str())
        .collect();
    if people.is_empty() && !args.offline && stranger_tallies.iter().all(|(_, t)| t.total() == 0) {
        anyhow::bail!(
            "no photos of strangers could be had: {}",
            if stranger_notes.is_empty() {
                "see the table above".to_string()
            } else {
                stranger_notes.join("; ")
            }
        );
    }
    if !empty.is_empty() {
        anyhow::bail!(
            "no photos could be had for {}: see the notes above; put photos in their folders \
             yourself, or try other --sources",
            empty.join(", ")
        );
    }
    Ok(())
}

fn print_summary<'a>(tallies: impl IntoIterator<Item = (&'a Person, &'a Tally)>) {
    println!(
        "{:<14} {:>6} {:>6} {:>12} {:>10} {:>7}  sources",
        "person", "total", "new", "quarantined", "duplicates", "failed"
    );
    for (person, tally) in tallies {
        let sources: Vec<String> = tally
            .per_source
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect();
        println!(
            "{:<14} {:>6} {:>6} {:>12} {:>10} {:>7}  {}",
            person.folder,
            tally.total(),
            tally.downloaded,
            tally.quarantined,
            tally.duplicates,
            tally.failed,
            sources.join(", ")
        );
        for note in &tally.notes {
            println!("  {}: {note}", person.folder);
        }
    }
}

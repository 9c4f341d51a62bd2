//! Second tier: the anchor face filter on real TWICE photos (`../shared/data/twice-dev`). For each
//! member, a fake Wikidata gives one of her photos as the portrait, and a fake Bing returns the
//! rest of her photos mixed with as many photos of the other eight members and a frame of each of
//! the other groups' idols (BLACKPINK, aespa, ITZY). The downloader must keep hers and quarantine
//! the others. Run with `make test-shared`; `--nocapture` prints the precision and recall.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use facefile::format::manifest::ManifestFile;
use image::AnimationDecoder;
use testdata::fake_http::{FakeServer, Reply, Seen};

const CLOSED: &str = "http://127.0.0.1:1";

fn members() -> Vec<(String, Vec<PathBuf>)> {
    let root = testdata::shared_data().join("twice-dev/photos");
    let mut members: Vec<(String, Vec<PathBuf>)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|dir| {
            let mut photos: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            photos.sort();
            (
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                photos,
            )
        })
        .collect();
    members.sort();
    members
}

/// The middle frame of each stranger clip, as PNG bytes.
fn stranger_frames() -> Vec<(String, Vec<u8>)> {
    let clips = testdata::shared_data().join("twice-dev/clips");
    let mut frames = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&clips)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("stranger-") && name.ends_with(".gif")
        })
        .collect();
    names.sort();
    for path in names {
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let decoded: Vec<image::Frame> = image::codecs::gif::GifDecoder::new(file)
            .unwrap()
            .into_frames()
            .collect::<Result<_, _>>()
            .unwrap();
        let frame = decoded[decoded.len() / 2].buffer().clone();
        let mut png = Vec::new();
        image::DynamicImage::ImageRgba8(frame)
            .to_rgb8()
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        frames.push((
            path.file_stem().unwrap().to_string_lossy().into_owned(),
            png,
        ));
    }
    frames
}

#[derive(Default, Debug)]
struct Counts {
    kept_hers: usize,
    kept_others: usize,
    quarantined_hers: usize,
    quarantined_others: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        self.kept_hers as f64 / (self.kept_hers + self.kept_others).max(1) as f64
    }

    fn recall(&self) -> f64 {
        self.kept_hers as f64 / (self.kept_hers + self.quarantined_hers).max(1) as f64
    }
}

/// One member's run; `portrait` says whether Wikidata knows her (else the anchor bootstraps).
fn run_member(
    member: &str,
    all: &[(String, Vec<PathBuf>)],
    strangers: &[(String, Vec<u8>)],
    portrait: bool,
    data: &Path,
) -> Counts {
    let own = &all.iter().find(|(m, _)| m == member).unwrap().1;
    let others: Vec<&(String, Vec<PathBuf>)> = all.iter().filter(|(m, _)| m != member).collect();
    // Served files: name -> (bytes, whose).
    let mut files: HashMap<String, (Vec<u8>, bool)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let add = |files: &mut HashMap<String, (Vec<u8>, bool)>, name: String, bytes, hers| {
        files.insert(name.clone(), (bytes, hers));
        name
    };
    let portrait_name = add(
        &mut files,
        "portrait".into(),
        std::fs::read(&own[0]).unwrap(),
        true,
    );
    let hers: Vec<String> = own[1..]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            add(
                &mut files,
                format!("her-{i}"),
                std::fs::read(p).unwrap(),
                true,
            )
        })
        .collect();
    let theirs: Vec<String> = (0..hers.len())
        .map(|i| {
            let (name, photos) = others[i % others.len()];
            let photo = &photos[(i / others.len()) % photos.len()];
            add(
                &mut files,
                format!("other-{name}-{i}"),
                std::fs::read(photo).unwrap(),
                false,
            )
        })
        .collect();
    let strangers: Vec<String> = strangers
        .iter()
        .map(|(name, bytes)| add(&mut files, name.clone(), bytes.clone(), false))
        .collect();
    // Interleaved as a search engine mixes them: hers, another member's, now and then a stranger
    // (her portrait among them when Wikidata does not know her).
    if !portrait {
        order.push(portrait_name.clone());
    }
    for i in 0..hers.len().max(theirs.len()) {
        order.extend(hers.get(i).cloned());
        order.extend(theirs.get(i).cloned());
        if i % 2 == 1 {
            order.extend(strangers.get(i / 2).cloned());
        }
    }
    order.extend(strangers.iter().skip(hers.len() / 2).cloned());

    let files = Arc::new(files);
    let served = files.clone();
    let images = FakeServer::start(move |seen: &Seen, _| {
        match served.get(seen.path.trim_start_matches('/')) {
            Some((bytes, _)) => Reply::image(bytes.clone()),
            None => Reply::status(404),
        }
    });
    let base = images.base.clone();
    let order_json: String = order
        .iter()
        .map(|name| {
            let json = format!(r#"{{"murl":"{base}/{name}","purl":"https://fan.example/{name}"}}"#);
            format!("<a class=\"iusc\" m=\"{}\">", json.replace('"', "&quot;"))
        })
        .collect();
    let bing = FakeServer::start(move |_: &Seen, _| Reply::html(&order_json));
    let member_name = member.to_string();
    let wiki = FakeServer::start(move |seen: &Seen, _| {
        let json = match (seen.param("action"), seen.param("ids")) {
            (Some("wbsearchentities"), _)
                if portrait && seen.param("search") == Some(&member_name) =>
            {
                r#"{"search":[{"id":"Q1"}]}"#.to_string()
            }
            (Some("wbsearchentities"), _) => r#"{"search":[]}"#.to_string(),
            (Some("wbgetentities"), Some("Q2")) => {
                r#"{"entities":{"Q2":{"labels":{"en":{"value":"Twice"}}}}}"#.to_string()
            }
            (Some("wbgetentities"), _) => format!(
                r#"{{"entities":{{"Q1":{{"labels":{{"en":{{"value":"{member_name}"}}}},"claims":{{
                    "P18":[{{"mainsnak":{{"datavalue":{{"value":"Portrait.jpg"}}}}}}],
                    "P463":[{{"mainsnak":{{"datavalue":{{"value":{{"id":"Q2"}}}}}}}}]}}}}}}}}"#
            ),
            (Some("query"), _) if seen.param("titles").is_some() => format!(
                r#"{{"query":{{"pages":[{{"title":"File:Portrait.jpg","imageinfo":[{{"url":"{base}/{portrait_name}","mime":"image/jpeg"}}]}}]}}}}"#
            ),
            _ => r#"{"batchcomplete":true,"query":{"pages":[],"categorymembers":[]}}"#.to_string(),
        };
        Reply::json(&json)
    });
    let output = Command::cargo_bin("downloader")
        .unwrap()
        .arg("-d")
        .arg(data)
        .args([
            "-k",
            &format!("TWICE {member}"),
            "--dir-name",
            member,
            "-n",
            "200",
        ])
        .args(["--wikidata-url", &wiki.base, "--commons-url", &wiki.base])
        .args(["--bing-url", &bing.base, "--duckduckgo-url", CLOSED, "-q"])
        .env("FACE_MODELS_DIR", testdata::models_dir())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{member}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest = ManifestFile::read(&data.join(member).join("manifest.msgpack"))
        .unwrap()
        .body;
    let whose = |url: &str| files[url.rsplit('/').next().unwrap()].1;
    let mut counts = Counts::default();
    for entry in &manifest.entries {
        if whose(&entry.url) {
            counts.kept_hers += 1;
        } else {
            counts.kept_others += 1;
            eprintln!("  {member}: kept {}", entry.url.rsplit('/').next().unwrap());
        }
    }
    for failed in manifest
        .failed
        .iter()
        .filter(|f| f.reason.starts_with("quarantined"))
    {
        if whose(&failed.url) {
            counts.quarantined_hers += 1;
            eprintln!("  {member}: quarantined hers: {}", failed.reason);
        } else {
            counts.quarantined_others += 1;
        }
    }
    assert_eq!(
        counts.kept_hers + counts.kept_others + counts.quarantined_hers + counts.quarantined_others,
        files.len(),
        "{member}: every photo decided: {manifest:#?}"
    );
    counts
}

#[test]
#[ignore = "needs ../shared; run with `make test-shared`"]
fn the_anchor_keeps_the_member_and_quarantines_everyone_else() {
    let all = members();
    let strangers = stranger_frames();
    assert_eq!(all.len(), 9);
    assert!(strangers.len() >= 5);
    for portrait in [true, false] {
        let mut total = Counts::default();
        for (member, _) in &all {
            let dir = tempfile::tempdir().unwrap();
            let counts = run_member(member, &all, &strangers, portrait, dir.path());
            eprintln!("{member:<10} portrait {portrait:<5} {counts:?}");
            total.kept_hers += counts.kept_hers;
            total.kept_others += counts.kept_others;
            total.quarantined_hers += counts.quarantined_hers;
            total.quarantined_others += counts.quarantined_others;
        }
        eprintln!(
            "with{} a portrait: precision {:.3}, recall {:.3} ({total:?})",
            if portrait { "" } else { "out" },
            total.precision(),
            total.recall()
        );
        // Other members must almost never get through; most of hers must.
        assert!(total.precision() >= 0.95, "{total:?}");
        assert!(total.recall() >= 0.7, "{total:?}");
    }
}

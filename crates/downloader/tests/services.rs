//! The downloader against local servers shaped like the real services — Wikidata's
//! wbsearchentities/wbgetentities, Commons' query API with `continue`, Wikimedia's upload host,
//! Bing's result page, DuckDuckGo's bot wall — and like the internet's worst image hosts: dead,
//! slow, refusing, rate limiting with dates, hotlink-protected, lying about their content, and
//! redirecting to `file://`, `data:` and in circles. Faces are the face_recognition fixtures: the
//! person is Barack Obama, and Joe Biden plays the other member.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;
use facefile::format::manifest::{Manifest, ManifestFile};
use testdata::command::{run_err, run_ok};
use testdata::fake_http::{FakeServer, Reply, Seen};

/// Nothing listens here.
const CLOSED: &str = "http://127.0.0.1:1";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(testdata::face_recognition_test_images().join(name)).unwrap()
}

/// Another copy of a photo: the same face, other bytes (JPEG decoders stop at the end marker).
fn variant(name: &str, tag: u8) -> Vec<u8> {
    let mut bytes = fixture(name);
    bytes.push(tag);
    bytes
}

/// A Commons `imageinfo` page (formatversion 2).
fn file_page(index: u32, title: &str, url: &str, extmetadata: &str) -> String {
    format!(
        r#"{{"pageid":{index},"ns":6,"title":"File:{title}","index":{index},"imageinfo":[{{"thumburl":"{url}","url":"{url}","descriptionurl":"https://commons.example/wiki/File:{title}","mime":"image/jpeg","extmetadata":{extmetadata}}}]}}"#
    )
}

fn pages(pages: &[String], more: Option<&str>) -> Reply {
    let more = more
        .map(|m| format!(r#","continue":{m}"#))
        .unwrap_or_default();
    Reply::json(&format!(
        r#"{{"batchcomplete":true{more},"query":{{"pages":[{}]}}}}"#,
        pages.join(",")
    ))
}

/// Wikidata and Commons in one MediaWiki: Obama the city and Barack Obama the member of the
/// "Democrats", whose files sit on `upload`.
fn wiki(upload: String) -> FakeServer {
    FakeServer::start(move |seen: &Seen, _| {
        if seen.path != "/w/api.php" {
            return Reply::status(404);
        }
        assert_eq!(seen.param("format"), Some("json"));
        assert_eq!(seen.param("formatversion"), Some("2"));
        assert_eq!(seen.param("maxlag"), Some("5"));
        let licence = r#"{"LicenseShortName":{"value":"CC BY 3.0"},"Artist":{"value":"<a href=\"//commons.example/wiki/User:Pete\">Pete Souza</a>"}}"#;
        match (seen.param("action"), seen.param("ids")) {
            (Some("wbsearchentities"), _) => Reply::json(match seen.param("search") {
                Some("Obama") => {
                    r#"{"search":[{"id":"Q10","label":"Obama","description":"city in Fukui, Japan"},{"id":"Q20","label":"Barack Obama"}]}"#
                }
                _ => r#"{"search":[]}"#,
            }),
            (Some("wbgetentities"), Some("Q30")) => Reply::json(
                r#"{"entities":{"Q30":{"id":"Q30","labels":{"en":{"value":"Democrats"}},"aliases":{}}}}"#,
            ),
            (Some("wbgetentities"), Some(ids)) => {
                let town = r#""Q10":{"id":"Q10","labels":{"en":{"value":"Obama"}},"descriptions":{"en":{"value":"city in Fukui, Japan"}},"claims":{}}"#;
                let person = r#""Q20":{"id":"Q20","labels":{"en":{"value":"Barack Obama"}},"descriptions":{"en":{"value":"44th president"}},"claims":{
                    "P18":[{"rank":"normal","mainsnak":{"datavalue":{"value":"Obama old.jpg"}}},{"rank":"preferred","mainsnak":{"datavalue":{"value":"Obama portrait.jpg"}}}],
                    "P373":[{"rank":"normal","mainsnak":{"datavalue":{"value":"Barack Obama"}}}],
                    "P463":[{"rank":"normal","mainsnak":{"datavalue":{"value":{"entity-type":"item","id":"Q30"}}}}],
                    "P569":[{"rank":"normal","mainsnak":{"datavalue":{"value":{"time":"+1961-08-04T00:00:00Z"}}}}]}}"#;
                let wanted: Vec<&str> = ids.split('|').collect();
                let mut found = Vec::new();
                if wanted.contains(&"Q10") {
                    found.push(town);
                }
                if wanted.contains(&"Q20") {
                    found.push(person);
                }
                Reply::json(&format!(r#"{{"entities":{{{}}}}}"#, found.join(",")))
            }
            (Some("query"), _) => {
                if seen.param("titles") == Some("File:Obama portrait.jpg") {
                    return pages(
                        &[file_page(
                            1,
                            "Obama portrait.jpg",
                            &format!("{upload}/obama.jpg"),
                            licence,
                        )],
                        None,
                    );
                }
                if seen.param("gsrsearch") == Some("haswbstatement:P180=Q20") {
                    return match (seen.param("gsroffset"), seen.param("continue")) {
                        (None, None) => pages(
                            &[
                                file_page(1, "Obama 2.jpg", &format!("{upload}/obama2.jpg"), "[]"),
                                file_page(2, "Biden.jpg", &format!("{upload}/biden.jpg"), licence),
                                r#"{"title":"File:Broken.jpg","index":"three","imageinfo":"no"}"#
                                    .into(),
                            ],
                            Some(r#"{"gsroffset":3,"continue":"gsroffset||"}"#),
                        ),
                        (Some("3"), Some("gsroffset||")) => pages(
                            &[file_page(
                                1,
                                "Obama 3.jpg",
                                &format!("{upload}/obama3.jpg"),
                                licence,
                            )],
                            None,
                        ),
                        _ => Reply::json(
                            r#"{"error":{"code":"badcontinue","info":"Invalid continue param. You should pass the original value returned by the previous query."}}"#,
                        ),
                    };
                }
                if seen.param("list") == Some("categorymembers") {
                    return Reply::json(match seen.param("cmtitle") {
                        Some("Category:Barack Obama") => {
                            r#"{"query":{"categorymembers":[{"ns":14,"title":"Category:Barack Obama in 2009"},{"ns":14,"title":"Category:Democrats at the 2008 convention"}]}}"#
                        }
                        _ => r#"{"batchcomplete":true,"query":{"categorymembers":[]}}"#,
                    });
                }
                match seen.param("gcmtitle") {
                    Some("Category:Barack Obama") => pages(
                        &[
                            file_page(
                                1,
                                "Obama copy.jpg",
                                &format!("{upload}/obama-copy.jpg"),
                                licence,
                            ),
                            file_page(2, "Poster.jpg", &format!("{upload}/lie.jpg"), licence),
                        ],
                        None,
                    ),
                    Some("Category:Barack Obama in 2009") => pages(&[], None),
                    Some(other) => panic!("a category that should not be walked: {other}"),
                    None => Reply::status(400),
                }
            }
            _ => Reply::status(400),
        }
    })
}

/// Wikimedia's upload host: slow enough that parallel downloads overlap.
fn upload() -> FakeServer {
    FakeServer::start(|seen: &Seen, _| {
        let slow = Duration::from_millis(300);
        match seen.path.as_str() {
            "/obama.jpg" | "/obama-copy.jpg" => Reply::image(fixture("obama.jpg")).delayed(slow),
            "/obama2.jpg" => Reply::image(fixture("obama2.jpg")).delayed(slow),
            "/obama3.jpg" => Reply::image(fixture("obama3.jpg")).delayed(slow),
            "/biden.jpg" => Reply::image(fixture("biden.jpg")).delayed(slow),
            // Served as a JPEG, but it is a web page: the bytes decide.
            "/lie.jpg" => Reply::new(
                200,
                "image/jpeg",
                b"<html>Hotlinking forbidden</html>".to_vec(),
            ),
            _ => Reply::status(404),
        }
    })
}

/// Image hosts that Bing's results point to.
fn image_hosts() -> FakeServer {
    FakeServer::start(|seen: &Seen, _| match seen.path.as_str() {
        "/thumb-obama.jpg" => Reply::image(variant("obama2.jpg", 1)),
        "/hotlinked.jpg" if seen.referer.as_deref() == Some("https://fan.example/obama") => {
            Reply::image(variant("obama3.jpg", 2))
        }
        "/hotlinked.jpg" => Reply::status(403),
        "/biden2.jpg" => Reply::image(variant("biden.jpg", 3)),
        "/to-file" => Reply::redirect("file:///etc/passwd"),
        "/to-data" => Reply::redirect("data:image/png;base64,iVBORw0KGgo="),
        "/loop-a" => Reply::redirect("/loop-b"),
        "/loop-b" => Reply::redirect("/loop-a"),
        _ => Reply::status(404),
    })
}

/// One Bing result: the `m` attribute as Bing writes it, with numeric entities.
fn bing_result(murl: &str, turl: &str, purl: &str, separator: &str) -> String {
    let json =
        format!(r#"{{"murl":"{murl}","turl":"{turl}","purl":"{purl}","t":"Obama &amp; friends"}}"#);
    format!(
        "<a class=\"iusc\"{separator}m=\"{}\" href=\"/images/x\">",
        json.replace('"', "&#34;")
    )
}

fn bing(images: String) -> FakeServer {
    FakeServer::start(move |seen: &Seen, _| {
        if seen.path != "/images/async" {
            return Reply::status(404);
        }
        let i = |path: &str| format!("{images}{path}");
        // Every page is the same: Bing repeats itself past the end of its results.
        Reply::html(&format!(
            "<div>{}{}{}{}{}{}</div>",
            bing_result(
                &format!("{CLOSED}/dead.jpg"),
                &i("/thumb-obama.jpg"),
                "https://a.example/",
                "\t"
            ),
            bing_result(&i("/to-file"), "", "https://b.example/", " "),
            bing_result(&i("/to-data"), "", "https://c.example/", "\n"),
            bing_result(&i("/loop-a"), "", "https://d.example/", " "),
            bing_result(&i("/hotlinked.jpg"), "", "https://fan.example/obama", " "),
            bing_result(&i("/biden2.jpg"), "", "https://e.example/", " "),
        ))
    })
}

/// Every service answering "blocked" or nothing, unless replaced.
struct World {
    wiki: String,
    commons: String,
    bing: String,
    duckduckgo: String,
}

impl World {
    fn closed() -> World {
        World {
            wiki: CLOSED.into(),
            commons: CLOSED.into(),
            bing: CLOSED.into(),
            duckduckgo: CLOSED.into(),
        }
    }

    fn downloader(&self, data: &Path) -> Command {
        Command::from_std(self.process(data))
    }

    /// The same command as a plain process (to be killed).
    fn process(&self, data: &Path) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("downloader"));
        cmd.arg("-d")
            .arg(data)
            .args(["--wikidata-url", &self.wiki, "--commons-url", &self.commons])
            .args([
                "--bing-url",
                &self.bing,
                "--duckduckgo-url",
                &self.duckduckgo,
            ])
            .args(["--timeout", "2", "--retries", "1", "--backoff-ms", "50"])
            .args(["--max-size-mb", "1", "--contact", "tests@facelabel.example"])
            .env("FACE_MODELS_DIR", testdata::models_dir());
        cmd
    }
}

fn manifest(folder: &Path) -> Manifest {
    ManifestFile::read(&folder.join("manifest.msgpack"))
        .unwrap()
        .body
}

fn photos_in(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.file_name().unwrap() != "manifest.msgpack");
    files.sort();
    files
}

#[test]
fn identity_first_then_bing_and_only_the_persons_face_is_kept() {
    let upload = upload();
    let wiki = wiki(upload.base.clone());
    let images = image_hosts();
    let bing = bing(images.base.clone());
    let duckduckgo = FakeServer::start(|_: &Seen, _| Reply::status(500));
    let world = World {
        wiki: wiki.base.clone(),
        commons: wiki.base.clone(),
        bing: bing.base.clone(),
        duckduckgo: duckduckgo.base.clone(),
    };
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(world.downloader(dir.path()).args([
        "-k",
        "Democrats Obama",
        "--dir-name",
        "Obama",
        "-n",
        "10",
    ]));
    let folder = dir.path().join("Obama");
    let manifest = manifest(&folder);

    // Identity: the namesake who is a member of the group in the query, not the first hit.
    assert_eq!(manifest.item.as_deref(), Some("Q20"), "{out}");
    assert!(
        out.contains("Wikidata: Barack Obama (Q20), member of Democrats"),
        "{out}"
    );

    // Kept: the portrait, the two other Obamas of Commons (the second after `continue`), and
    // from Bing the thumbnail of a dead host's image and the hotlink-protected one.
    let by_url = |suffix: &str| {
        manifest
            .entries
            .iter()
            .find(|e| e.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix} in {manifest:#?}\n{out}"))
    };
    assert_eq!(manifest.entries.len(), 5, "{manifest:#?}\n{out}");
    assert_eq!(photos_in(&folder).len(), 5);
    let portrait = by_url("/obama.jpg");
    assert_eq!(portrait.source, "commons");
    assert_eq!(portrait.licence.as_deref(), Some("CC BY 3.0"));
    assert_eq!(portrait.author.as_deref(), Some("Pete Souza"));
    assert_eq!(portrait.title.as_deref(), Some("File:Obama portrait.jpg"));
    assert_eq!(
        by_url("/obama2.jpg").licence,
        None,
        "extmetadata: [] is no licence"
    );
    assert_eq!(by_url("/obama3.jpg").author.as_deref(), Some("Pete Souza"));
    assert_eq!(by_url("/thumb-obama.jpg").source, "bing");
    assert_eq!(by_url("/hotlinked.jpg").source, "bing");
    for entry in &manifest.entries {
        let bytes = std::fs::read(folder.join(&entry.file)).unwrap();
        assert_eq!(entry.sha256, facefile::fs::sha256_bytes(&bytes));
        assert!(entry.file.starts_with(&entry.sha256[..16]));
    }

    // Quarantined with the reason: Biden from Commons and from Bing.
    let quarantined = photos_in(&dir.path().join(".quarantine/Obama"));
    assert_eq!(quarantined.len(), 2, "{quarantined:?}\n{out}");
    let log = std::fs::read_to_string(dir.path().join(".quarantine/log.tsv")).unwrap();
    assert_eq!(log.lines().count(), 2);
    assert!(
        log.lines()
            .all(|l| l.contains("not the same person as the anchor photos")),
        "{log}"
    );
    assert!(
        log.contains("/biden.jpg") && log.contains("/biden2.jpg"),
        "{log}"
    );
    assert!(out.contains("anchor: 1 trusted + "), "{out}");

    // Failed, each for its own reason, and the run went on.
    let failure = |suffix: &str| {
        manifest
            .failed
            .iter()
            .find(|f| f.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("no failure for {suffix}: {:#?}", manifest.failed))
    };
    assert!(
        failure("/to-file").reason.contains("file: scheme"),
        "{:?}",
        failure("/to-file")
    );
    assert!(failure("/to-data").reason.contains("data: scheme"));
    assert!(failure("/loop-a").reason.contains("redirect loop"));
    assert!(failure("/lie.jpg").reason.contains("not a usable image"));
    assert!(failure("/biden.jpg").reason.starts_with("quarantined: "));
    assert!(manifest.failed.iter().all(|f| f.permanent));
    assert!(
        manifest.failed.iter().all(|f| !f.url.contains("/dead.jpg")),
        "a dead host is not the URL's fault"
    );

    // Manners: the tool's name and contact for Wikimedia, a browser's for Bing and its images.
    for seen in wiki.seen().iter().chain(upload.seen().iter()) {
        assert!(
            seen.user_agent.starts_with("facelabel-downloader/")
                && seen.user_agent.contains("tests@facelabel.example"),
            "{seen:?}"
        );
    }
    for seen in bing.seen().iter().chain(images.seen().iter()) {
        assert!(seen.user_agent.starts_with("Mozilla/5.0"), "{seen:?}");
        assert!(seen.accept_language.is_some(), "{seen:?}");
    }
    let search = &bing.seen_at("/images/async")[0];
    assert_eq!(
        search.param("qft"),
        Some(" filterui:face-face"),
        "the face filter, sent as Bing's own pages do"
    );
    assert_eq!(search.param("q"), Some("Democrats Obama"));
    // Bing's second page repeated the first: no third page.
    assert_eq!(bing.seen_at("/images/async").len(), 2);
    // The hotlinked image was asked again with the page it is on as Referer.
    let hotlinked = images.seen_at("/hotlinked.jpg");
    assert_eq!(hotlinked.len(), 2);
    assert_eq!(hotlinked[0].referer, None);
    // At most two connections to Wikimedia's upload host, and it did use two.
    assert_eq!(upload.busiest(), 2);
    // Commons by identity: depicts, the category and its own subcategory, never the group's.
    let commons_asked: Vec<String> = wiki
        .seen()
        .iter()
        .filter_map(|s| s.param("gcmtitle").or(s.param("cmtitle")).map(String::from))
        .collect();
    assert!(
        commons_asked.iter().all(|c| !c.contains("convention")),
        "{commons_asked:?}"
    );
    assert!(
        commons_asked.iter().any(|c| c.contains("in 2009")),
        "{commons_asked:?}"
    );
    assert!(duckduckgo.seen().is_empty(), "DuckDuckGo is off by default");
    assert!(out.contains("bing ran dry"), "{out}");

    // Again, asking for no more: nothing is fetched.
    let before = upload.seen().len() + images.seen().len();
    let again = run_ok(world.downloader(dir.path()).args([
        "-k",
        "Democrats Obama",
        "--dir-name",
        "Obama",
        "-n",
        "5",
    ]));
    assert!(again.contains("nothing to download"), "{again}");
    assert_eq!(upload.seen().len() + images.seen().len(), before);
}

#[test]
fn api_errors_and_bot_walls_are_reported_and_the_run_goes_on() {
    let upload = upload();
    let wiki = wiki(upload.base.clone());
    let broken_commons = FakeServer::start(|_: &Seen, _| {
        Reply::json(
            r#"{"error":{"code":"internal_api_error_DBQueryError","info":"A database query error has occurred."},"servedby":"mw1"}"#,
        )
    });
    let duckduckgo = FakeServer::start(|_: &Seen, _| Reply::new(202, "text/html", Vec::new()));
    let world = World {
        wiki: wiki.base.clone(),
        commons: broken_commons.base.clone(),
        duckduckgo: duckduckgo.base.clone(),
        ..World::closed()
    };
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.txt");
    std::fs::write(
        &people,
        "# the item given: no search\nObama = \"Democrats Obama\" @Q20\nBiden = \"Democrats Biden\"\n",
    )
    .unwrap();
    let output = world
        .downloader(dir.path())
        .arg("--people")
        .arg(&people)
        .args(["-n", "3", "--sources", "commons,duckduckgo"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    // Nobody got a photo: that is an error, and it says why.
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("no photos") && stderr.contains("Obama") && stderr.contains("Biden"),
        "{stderr}"
    );
    assert!(
        stdout.contains(
            "Obama: commons failed (Wikimedia Commons answered with an error: \
             internal_api_error_DBQueryError: A database query error has occurred.)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Obama: duckduckgo failed (blocked by DuckDuckGo's bot protection (HTTP 202))"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Biden: Wikidata has no item named \"Biden\""),
        "{stdout}"
    );
    assert!(
        !stdout.contains("ran dry"),
        "a source that failed did not run dry: {stdout}"
    );
    assert!(
        stdout.contains("Biden: duckduckgo failed (blocked by DuckDuckGo's bot protection"),
        "{stdout}"
    );
    // The item from the file was used as given; DuckDuckGo was asked once in the whole run.
    assert!(wiki.seen().iter().all(
        |s| s.param("action") != Some("wbsearchentities") || s.param("search") == Some("Biden")
    ));
    assert_eq!(duckduckgo.seen().len(), 1);
    assert!(broken_commons
        .seen()
        .iter()
        .any(|s| s.param("gsrsearch") == Some("haswbstatement:P180=Q20")));
    // Nothing could be had, so no empty person folder is left for the later stages.
    assert!(!dir.path().join("Obama").exists());
    assert!(!dir.path().join("Biden").exists());
}

#[test]
fn refusals_are_tried_again_later_and_retry_after_dates_are_honoured() {
    let hosts = FakeServer::start(|seen: &Seen, count| match seen.path.as_str() {
        "/forbidden.jpg" => Reply::status(403),
        "/gone.jpg" => Reply::status(404),
        "/slow.jpg" => Reply::image(fixture("obama.jpg")).delayed(Duration::from_secs(5)),
        "/busy.jpg" if count == 1 => {
            let later = SystemTime::now() + Duration::from_secs(2);
            Reply::status(429).header("Retry-After", &httpdate::fmt_http_date(later))
        }
        "/busy.jpg" => Reply::image(fixture("obama2.jpg")),
        _ => Reply::status(404),
    });
    let dir = tempfile::tempdir().unwrap();
    let urls = dir.path().join("links.txt");
    std::fs::write(
        &urls,
        [
            "/forbidden.jpg",
            "/gone.jpg",
            "/slow.jpg",
            "/busy.jpg",
            "/to-nowhere",
        ]
        .iter()
        .map(|p| hosts.url(p))
        .collect::<Vec<_>>()
        .join("\n")
            + "\nfile:///etc/passwd\n",
    )
    .unwrap();
    let world = World::closed();
    let run = |extra: &[&str]| {
        let mut cmd = world.downloader(dir.path());
        cmd.args(["-k", "Joe", "-n", "5", "--sources", "urls", "--no-anchor"])
            .arg("--urls")
            .arg(&urls)
            .args(extra);
        run_ok(&mut cmd)
    };
    let out = run(&[]);
    let folder = dir.path().join("Joe");
    assert_eq!(photos_in(&folder).len(), 1, "{out}");
    let busy = hosts.seen_at("/busy.jpg");
    assert_eq!(busy.len(), 2);
    assert!(
        busy[1].at.duration_since(busy[0].at) >= Duration::from_millis(900),
        "the Retry-After date was waited for"
    );
    let failed = manifest(&folder).failed;
    let permanent = |suffix: &str| {
        failed
            .iter()
            .find(|f| f.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix}: {failed:#?}"))
            .permanent
    };
    assert!(!permanent("/forbidden.jpg"), "a refusal is for now");
    assert!(!permanent("/slow.jpg"), "a timeout is for now");
    assert!(permanent("/gone.jpg"));
    assert!(permanent("/to-nowhere"));
    assert!(permanent("file:///etc/passwd"));

    // Next run: refusals and timeouts are tried again, what is gone is not.
    run(&[]);
    assert_eq!(hosts.seen_at("/forbidden.jpg").len(), 2);
    assert_eq!(hosts.seen_at("/gone.jpg").len(), 1);
    // Unless asked.
    run(&["--retry-failed"]);
    assert_eq!(hosts.seen_at("/gone.jpg").len(), 2);
}

#[test]
fn url_lists_without_models_and_no_network() {
    let hosts = FakeServer::start(|seen: &Seen, _| match seen.path.as_str() {
        "/biden.jpg" => Reply::image(fixture("biden.jpg")),
        _ => Reply::status(404),
    });
    let dir = tempfile::tempdir().unwrap();
    let urls = dir.path().join("links.txt");
    std::fs::write(&urls, format!("{}\n# a comment\n", hosts.url("/biden.jpg"))).unwrap();
    // --no-anchor needs no model files.
    let out = run_ok(
        World::closed()
            .downloader(dir.path())
            .args(["-k", "Joe", "-n", "3", "--sources", "urls", "--no-anchor"])
            .arg("--urls")
            .arg(&urls)
            .env("FACE_MODELS_DIR", dir.path().join("no-models")),
    );
    assert_eq!(photos_in(&dir.path().join("Joe")).len(), 1, "{out}");

    // The face filter without its models: the fix is named.
    let err = run_err(
        World::closed()
            .downloader(dir.path())
            .args(["-k", "Jill", "-n", "3", "--sources", "urls"])
            .arg("--urls")
            .arg(&urls)
            .env("FACE_MODELS_DIR", dir.path().join("no-models")),
    );
    assert!(
        err.contains("make models") && err.contains("--no-anchor"),
        "{err}"
    );

    // Nothing listens anywhere: one line that says so.
    let err = run_err(
        World::closed()
            .downloader(dir.path())
            .args(["-k", "Jihyo", "-n", "5"]),
    );
    assert!(err.contains("no network"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn your_own_photos_need_no_network_and_are_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let run = |person: &str, extra: &[&str]| {
        let mut cmd = World::closed().downloader(dir.path());
        cmd.args(["-k", &format!("TWICE {person}"), "--dir-name", person]);
        if !extra.contains(&"-n") {
            cmd.args(["-n", "50"]);
        }
        cmd.args(extra);
        cmd
    };
    let nayeon = dir.path().join("Nayeon");
    std::fs::create_dir_all(&nayeon).unwrap();
    std::fs::write(nayeon.join("a.jpg"), fixture("obama.jpg")).unwrap();
    std::fs::write(nayeon.join("b.png"), fixture("obama2.jpg")).unwrap();
    let out = run_ok(&mut run("Nayeon", &[]));
    assert!(
        out.contains("Nayeon: no network: keeping the 2 photos present (2 of your own)"),
        "{out}"
    );
    assert!(
        nayeon.join("manifest.msgpack").is_file(),
        "make sees the person done"
    );
    let out = run_ok(&mut run("Nayeon", &["-n", "2"]));
    assert!(
        out.contains("Nayeon: 2 photos of your own, nothing downloaded"),
        "{out}"
    );
    let out = run_ok(&mut run("Nayeon", &["--offline"]));
    assert!(out.contains("nothing downloaded (--offline)"), "{out}");
    let err = run_err(&mut run("Mina", &[]));
    assert!(
        err.contains("no network")
            && err.contains("Mina")
            && err.contains("put Mina's photos there"),
        "{err}"
    );
    let err = run_err(&mut run("Sana", &["--offline"]));
    assert!(
        err.contains("Sana") && err.contains("has no photos"),
        "{err}"
    );

    // Own photos are the anchor: with a search engine that finds him and someone else, only he
    // is kept, though Wikidata was not reachable.
    let images = FakeServer::start(|seen: &Seen, _| match seen.path.as_str() {
        "/him.jpg" => Reply::image(fixture("obama3.jpg")),
        "/other.jpg" => Reply::image(fixture("biden.jpg")),
        _ => Reply::status(404),
    });
    let bing = {
        let images = images.base.clone();
        FakeServer::start(move |_: &Seen, _| {
            Reply::html(&format!(
                "{}{}",
                bing_result(
                    &format!("{images}/other.jpg"),
                    "",
                    "https://x.example/",
                    " "
                ),
                bing_result(&format!("{images}/him.jpg"), "", "https://y.example/", " "),
            ))
        })
    };
    let world = World {
        bing: bing.base.clone(),
        ..World::closed()
    };
    let out = run_ok(world.downloader(dir.path()).args([
        "-k",
        "TWICE Nayeon",
        "--dir-name",
        "Nayeon",
        "-n",
        "4",
    ]));
    let entries = manifest(&nayeon).entries;
    assert_eq!(entries.len(), 1, "{out}");
    assert!(entries[0].url.ends_with("/him.jpg"));
    assert_eq!(photos_in(&dir.path().join(".quarantine/Nayeon")).len(), 1);
    assert!(out.contains("anchor: 2 trusted + "), "{out}");
}

/// Wikidata where the "Democrats" (Q30: Barack Obama, Q20, and Q21) are a kind of group (Q901)
/// of a genre (Q900), and so are the "Republicans" (Q31: Joe Biden, Q40, and Q20 again, who is a
/// member of the group and must not be taken for a stranger). Joe Biden's portrait is on `upload`.
fn scene_wiki(upload: String) -> FakeServer {
    FakeServer::start(move |seen: &Seen, _| {
        if seen.path != "/w/api.php" {
            return Reply::status(404);
        }
        let claim = |id: &str| {
            format!(
                r#"{{"rank":"normal","mainsnak":{{"datavalue":{{"value":{{"entity-type":"item","id":"{id}"}}}}}}}}"#
            )
        };
        let group = |id: &str, label: &str, members: &[&str]| {
            format!(
                r#""{id}":{{"id":"{id}","labels":{{"en":{{"value":"{label}"}}}},"claims":{{"P527":[{}],"P31":[{}],"P136":[{}]}}}}"#,
                members
                    .iter()
                    .map(|m| claim(m))
                    .collect::<Vec<_>>()
                    .join(","),
                claim("Q901"),
                claim("Q900")
            )
        };
        let biden = r#""Q40":{"id":"Q40","labels":{"en":{"value":"Joe Biden"}},"descriptions":{"en":{"value":"politician"}},"claims":{"P18":[{"rank":"normal","mainsnak":{"datavalue":{"value":"Biden portrait.jpg"}}}],"P569":[{"rank":"normal","mainsnak":{"datavalue":{"value":{"time":"+1942-11-20T00:00:00Z"}}}}]}}"#;
        match (seen.param("action"), seen.param("ids"), seen.param("list")) {
            (Some("wbsearchentities"), _, _) => Reply::json(match seen.param("search") {
                Some("Democrats") => r#"{"search":[{"id":"Q30","label":"Democrats"}]}"#,
                _ => r#"{"search":[]}"#,
            }),
            (Some("wbgetentities"), Some(ids), _) => {
                let mut found = Vec::new();
                for id in ids.split('|') {
                    match id {
                        "Q30" => found.push(group("Q30", "Democrats", &["Q20", "Q21"])),
                        "Q31" => found.push(group("Q31", "Republicans", &["Q40", "Q20"])),
                        "Q40" => found.push(biden.to_string()),
                        _ => {}
                    }
                }
                Reply::json(&format!(r#"{{"entities":{{{}}}}}"#, found.join(",")))
            }
            (Some("query"), _, Some("search")) => {
                assert_eq!(seen.param("srnamespace"), Some("0"));
                Reply::json(match seen.param("srsearch") {
                    Some("haswbstatement:P31=Q901 haswbstatement:P136=Q900") => {
                        r#"{"query":{"search":[{"title":"Q30"},{"title":"Q31"}]}}"#
                    }
                    _ => r#"{"query":{"search":[]}}"#,
                })
            }
            (Some("query"), _, _) if seen.param("titles") == Some("File:Biden portrait.jpg") => {
                pages(
                    &[file_page(
                        1,
                        "Biden portrait.jpg",
                        &format!("{upload}/biden.jpg"),
                        "[]",
                    )],
                    None,
                )
            }
            (Some("query"), _, _) => pages(&[], None),
            _ => Reply::status(400),
        }
    })
}

#[test]
fn strangers_are_members_of_other_groups_like_the_group() {
    let upload = upload();
    let wiki = scene_wiki(upload.base.clone());
    let world = World {
        wiki: wiki.base.clone(),
        commons: wiki.base.clone(),
        ..World::closed()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(world.downloader(dir.path()).args([
        "--strangers",
        "5",
        "--group",
        "Democrats",
        "--sources",
        "commons",
    ]));
    assert!(
        out.contains("1 people of 1 other groups like Democrats (Q30): Republicans"),
        "{out}"
    );
    // Joe Biden of the other group, by his item; Barack Obama is in both and is no stranger.
    let folder = dir.path().join(".strangers/Joe Biden");
    let manifest = manifest(&folder);
    assert_eq!(manifest.item.as_deref(), Some("Q40"), "{out}");
    assert_eq!(manifest.query, "Republicans Joe Biden");
    assert_eq!(photos_in(&folder).len(), 1, "{out}");
    assert!(!dir.path().join(".strangers/Barack Obama").exists());
    // Only Wikidata's own API was asked who the strangers are.
    assert!(wiki.seen().iter().any(|s| s
        .param("srsearch")
        .is_some_and(|q| q.contains("haswbstatement:P136=Q900"))));

    // Without a group to be strangers to: a bad command line.
    let err = world
        .downloader(dir.path())
        .args(["--strangers", "5"])
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&err.stderr).contains("--group"));
    // Offline: nothing, and said so.
    let out = world
        .downloader(dir.path())
        .args(["--strangers", "5", "--group", "Democrats", "--offline"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("offline: no strangers downloaded"), "{text}");
}

#[test]
fn killing_the_downloader_never_leaves_a_photo_without_its_entry() {
    let upload = upload();
    let wiki = wiki(upload.base.clone());
    let images = image_hosts();
    let bing = bing(images.base.clone());
    let world = World {
        wiki: wiki.base.clone(),
        commons: wiki.base.clone(),
        bing: bing.base.clone(),
        ..World::closed()
    };
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("Obama");
    let listed = |folder: &Path| -> Vec<String> {
        match ManifestFile::read(&folder.join("manifest.msgpack")) {
            Ok(m) => m.body.entries.iter().map(|e| e.file.clone()).collect(),
            Err(_) => Vec::new(),
        }
    };
    let args = ["-k", "Democrats Obama", "--dir-name", "Obama", "-n", "10"];
    for delay in (150..2400).step_by(150) {
        let mut child = world
            .process(dir.path())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whenever it was killed, every photo it put in place has its entry (URL, licence).
        let entries = listed(&folder);
        for photo in photos_in(&folder) {
            let name = photo.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue; // what it was writing when killed: removed by the next run
            }
            assert!(
                entries.contains(&name),
                "{name} has no manifest entry after a kill at {delay} ms"
            );
        }
    }
    run_ok(world.downloader(dir.path()).args(args));
    let entries = listed(&folder);
    let photos: Vec<String> = photos_in(&folder)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        photos.iter().all(|p| !p.contains(".partial-")),
        "no partial file is left: {photos:?}"
    );
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(sorted, photos, "the folder holds exactly the listed photos");
    assert_eq!(entries.len(), 5, "the same photos as an uninterrupted run");
}

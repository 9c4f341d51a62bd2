//! The downloader against a local HTTP server that answers like each real source (Wikimedia's API
//! JSON, DuckDuckGo's token page and JSON, Bing's result HTML) and like the internet's worst image
//! hosts: slow, failing, rate limiting, oversized, redirecting, and lying (HTML sent as image/jpeg).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use facefile::format::manifest::ManifestFile;

struct Server {
    base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(testdata::face_recognition_test_images().join(name)).unwrap()
}

fn respond(
    request: tiny_http::Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) {
    let mut response = tiny_http::Response::from_data(body).with_status_code(status);
    response.add_header(tiny_http::Header::from_bytes("Content-Type", content_type).unwrap());
    for (name, value) in extra {
        response.add_header(tiny_http::Header::from_bytes(*name, *value).unwrap());
    }
    let _ = request.respond(response);
}

fn start_server() -> Server {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (counter, me) = (hits.clone(), base.clone());
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let url = request.url().to_string();
            let path = url.split('?').next().unwrap().to_string();
            let count = {
                let mut hits = counter.lock().unwrap();
                let n = hits.entry(path.clone()).or_default();
                *n += 1;
                *n
            };
            let me = me.clone();
            std::thread::spawn(move || serve(request, &path, count, &me));
        }
    });
    Server { base, hits }
}

fn serve(request: tiny_http::Request, path: &str, count: usize, me: &str) {
    match path {
        "/w/api.php" => {
            let page = |id: u32, title: &str, url: &str, mime: &str, licence: &str| {
                format!(
                    r#""{id}":{{"pageid":{id},"ns":6,"title":"{title}","index":{id},"imageinfo":[{{"thumburl":"{url}","url":"{url}","descriptionurl":"{me}/wiki/{title}","mime":"{mime}","extmetadata":{{"LicenseShortName":{{"value":"{licence}"}}}}}}]}}"#
                )
            };
            let body = format!(
                r#"{{"batchcomplete":"","query":{{"pages":{{{},{},{},{},{}}}}}}}"#,
                page(
                    1,
                    "File:Obama.jpg",
                    &format!("{me}/img/obama.jpg"),
                    "image/jpeg",
                    "CC BY 3.0"
                ),
                page(
                    2,
                    "File:Lie.jpg",
                    &format!("{me}/img/lie.jpg"),
                    "image/jpeg",
                    "CC0"
                ),
                page(
                    3,
                    "File:Logo.svg",
                    &format!("{me}/img/logo.svg"),
                    "image/svg+xml",
                    "CC0"
                ),
                page(
                    4,
                    "File:Biden.jpg",
                    &format!("{me}/redirect/biden.jpg"),
                    "image/jpeg",
                    "Public domain"
                ),
                page(
                    5,
                    "File:Obama copy.jpg",
                    &format!("{me}/img/obama-copy.jpg"),
                    "image/jpeg",
                    "CC BY 3.0"
                ),
            );
            respond(request, 200, "application/json", body.into_bytes(), &[]);
        }
        "/broken/w/api.php" => respond(request, 503, "text/plain", b"down".to_vec(), &[]),
        "/" => respond(
            request,
            200,
            "text/html",
            br#"<html><script>vqd="4-31415926535",l="wt-wt"</script></html>"#.to_vec(),
            &[],
        ),
        "/i.js" => {
            let body = format!(
                r#"{{"query":"obama","results":[{{"image":"{me}/flaky/obama2.jpg","url":"{me}/p1","title":"Obama 2"}},{{"image":"{me}/slow/x.jpg","url":"{me}/p2","title":"slow"}},{{"image":"{me}/big.jpg","url":"{me}/p3","title":"huge"}},{{"image":"{me}/ratelimited/obama3.jpg","url":"{me}/p4","title":"Obama 3"}}]}}"#
            );
            respond(request, 200, "application/json", body.into_bytes(), &[]);
        }
        "/images/async" => {
            let m = format!("{{&quot;murl&quot;:&quot;{me}/img/32bit.png&quot;,&quot;purl&quot;:&quot;{me}/page&quot;,&quot;t&quot;:&quot;PNG&quot;}}");
            respond(
                request,
                200,
                "text/html",
                format!(r#"<div><a class="iusc" m="{m}" href="/x">x</a></div>"#).into_bytes(),
                &[],
            );
        }
        "/img/obama.jpg" | "/img/obama-copy.jpg" => {
            respond(request, 200, "image/jpeg", fixture("obama.jpg"), &[])
        }
        "/img/biden.jpg" => respond(request, 200, "image/jpeg", fixture("biden.jpg"), &[]),
        // Served with the wrong type: the bytes decide.
        "/img/32bit.png" => respond(request, 200, "text/plain", fixture("32bit.png"), &[]),
        "/img/lie.jpg" => respond(
            request,
            200,
            "image/jpeg",
            b"<html><body>Hotlinking forbidden</body></html>".to_vec(),
            &[],
        ),
        "/redirect/biden.jpg" => respond(
            request,
            302,
            "text/plain",
            Vec::new(),
            &[("Location", &format!("{me}/img/biden.jpg"))],
        ),
        "/flaky/obama2.jpg" if count == 1 => {
            respond(request, 500, "text/plain", b"oops".to_vec(), &[])
        }
        "/flaky/obama2.jpg" => respond(request, 200, "image/jpeg", fixture("obama2.jpg"), &[]),
        "/ratelimited/obama3.jpg" if count == 1 => respond(
            request,
            429,
            "text/plain",
            Vec::new(),
            &[("Retry-After", "1")],
        ),
        "/ratelimited/obama3.jpg" => {
            respond(request, 200, "image/jpeg", fixture("obama3.jpg"), &[])
        }
        "/slow/x.jpg" => {
            std::thread::sleep(std::time::Duration::from_secs(3));
            respond(request, 200, "image/jpeg", fixture("obama.jpg"), &[]);
        }
        "/big.jpg" => respond(request, 200, "image/jpeg", vec![0xFF; 3_000_000], &[]),
        _ => respond(request, 404, "text/plain", b"not found".to_vec(), &[]),
    }
}

fn downloader(server: &Server, out: &Path) -> Command {
    downloader_with_wikimedia(server, out, &server.base)
}

fn downloader_with_wikimedia(server: &Server, out: &Path, wikimedia: &str) -> Command {
    let mut cmd = Command::cargo_bin("downloader").unwrap();
    cmd.arg("-o")
        .arg(out)
        .args([
            "--wikimedia-url",
            wikimedia,
            "--duckduckgo-url",
            &server.base,
            "--bing-url",
            &server.base,
        ])
        .args([
            "--timeout",
            "1",
            "--retries",
            "2",
            "--backoff-ms",
            "50",
            "--max-size-mb",
            "1",
            "--max-pages",
            "2",
        ]);
    cmd
}

fn images_in(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "manifest.msgpack")
        .collect();
    files.sort();
    files
}

#[test]
fn downloads_from_every_source_through_bad_hosts_and_resumes() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let out = downloader(&server, dir.path())
        .args(["-k", "Barack Obama", "--dir-name", "오바마", "-n", "5"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let folder = dir.path().join("오바마");
    let files = images_in(&folder);
    assert_eq!(
        files.len(),
        5,
        "{files:?}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let manifest = ManifestFile::read(&folder.join("manifest.msgpack"))
        .unwrap()
        .body;
    assert_eq!(manifest.entries.len(), 5);
    for entry in &manifest.entries {
        // Named by content: no URL names, no clobbering, no path traversal.
        let bytes = std::fs::read(folder.join(&entry.file)).unwrap();
        let sha = facefile::fs::sha256_bytes(&bytes);
        assert_eq!(entry.sha256, sha);
        assert!(entry.file.starts_with(&sha[..16]), "{}", entry.file);
        assert_eq!(entry.size, bytes.len() as u64);
    }
    let by_url = |suffix: &str| {
        manifest
            .entries
            .iter()
            .find(|e| e.url.ends_with(suffix))
            .unwrap_or_else(|| panic!("no {suffix}: {manifest:#?}"))
    };
    assert_eq!(
        by_url("/img/obama.jpg").licence.as_deref(),
        Some("CC BY 3.0")
    );
    assert_eq!(by_url("/img/obama.jpg").source, "wikimedia");
    assert!(by_url("/img/obama.jpg")
        .page
        .as_deref()
        .unwrap()
        .contains("/wiki/File:Obama.jpg"));
    assert_eq!(by_url("/redirect/biden.jpg").source, "wikimedia");
    assert_eq!(by_url("/flaky/obama2.jpg").source, "duckduckgo");
    assert_eq!(by_url("/ratelimited/obama3.jpg").source, "duckduckgo");
    assert_eq!(by_url("/img/32bit.png").source, "bing");
    assert!(
        by_url("/img/32bit.png").file.ends_with(".png"),
        "extension from the content"
    );
    // The liar and the oversized file are refused for good; the duplicate is not downloaded twice.
    let failed = |suffix: &str| {
        manifest
            .failed
            .iter()
            .find(|f| f.url.ends_with(suffix))
            .map(|f| f.reason.clone())
    };
    assert!(failed("/img/lie.jpg")
        .unwrap()
        .contains("not a usable image"));
    assert!(failed("/big.jpg").unwrap().contains("too large"));
    assert!(!manifest
        .entries
        .iter()
        .any(|e| e.url.ends_with("obama-copy.jpg")));
    assert!(
        manifest
            .failed
            .iter()
            .all(|f| !f.url.ends_with("slow/x.jpg")),
        "a timeout is not a permanent failure"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("wikimedia: 2")
            && stdout.contains("duckduckgo: 2")
            && stdout.contains("bing: 1"),
        "{stdout}"
    );

    // Again: nothing is downloaded twice.
    let image_requests = |hits: &HashMap<String, usize>| {
        hits.iter()
            .filter(|(p, _)| {
                !p.contains("api")
                    && p.as_str() != "/"
                    && !p.contains("i.js")
                    && !p.contains("async")
            })
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    let before = image_requests(&server.hits.lock().unwrap());
    let out = downloader(&server, dir.path())
        .args(["-k", "Barack Obama", "--dir-name", "오바마", "-n", "5"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        image_requests(&server.hits.lock().unwrap()),
        before,
        "no image fetched on a complete folder"
    );
    assert_eq!(images_in(&folder).len(), 5);

    // Asking for more than the sources have: they run dry, and the run says so.
    let out = downloader(&server, dir.path())
        .args(["-k", "Barack Obama", "--dir-name", "오바마", "-n", "8"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(images_in(&folder).len(), 5);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ran dry"));
}

#[test]
fn a_failing_source_hands_over_to_the_next() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("members.txt");
    std::fs::write(&people, "# two of them\nMina = \"Barack Obama\"\n").unwrap();
    let out = downloader_with_wikimedia(&server, dir.path(), &format!("{}/broken", server.base))
        .arg("--people")
        .arg(&people)
        .args(["-n", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("wikimedia failed") && stdout.contains("going on with the next source"),
        "{stdout}"
    );
    let manifest = ManifestFile::read(&dir.path().join("Mina/manifest.msgpack"))
        .unwrap()
        .body;
    assert_eq!(manifest.entries.len(), 2);
    assert!(manifest.entries.iter().all(|e| e.source == "duckduckgo"));
    assert_eq!(manifest.query, "Barack Obama");
}

#[test]
fn url_lists_and_no_network() {
    let server = start_server();
    let dir = tempfile::tempdir().unwrap();
    let urls = dir.path().join("links.txt");
    std::fs::write(
        &urls,
        format!(
            "{0}/img/biden.jpg\n# a comment\n{0}/img/lie.jpg\n",
            server.base
        ),
    )
    .unwrap();
    let out = downloader(&server, dir.path())
        .args(["-k", "Joe", "-n", "3", "--sources", "urls"])
        .arg("--urls")
        .arg(&urls)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(images_in(&dir.path().join("Joe")).len(), 1);

    // Nothing listens on port 1: a one-line error, not a stack of retries.
    let closed = "http://127.0.0.1:1";
    let out = Command::cargo_bin("downloader")
        .unwrap()
        .arg("-o")
        .arg(dir.path())
        .args([
            "-k",
            "Jihyo",
            "-n",
            "5",
            "--wikimedia-url",
            closed,
            "--duckduckgo-url",
            closed,
            "--bing-url",
            closed,
            "--backoff-ms",
            "10",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no network"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn your_own_photos_need_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let closed = "http://127.0.0.1:1";
    let offline = |person: &str, extra: &[&str]| {
        let mut cmd = Command::cargo_bin("downloader").unwrap();
        let number = if extra.contains(&"-n") {
            &[][..]
        } else {
            &["-n", "50"][..]
        };
        cmd.arg("-d")
            .arg(dir.path())
            .args(["-k", &format!("TWICE {person}"), "--dir-name", person])
            .args(number)
            .args([
                "--wikimedia-url",
                closed,
                "--duckduckgo-url",
                closed,
                "--bing-url",
                closed,
            ])
            .args(["--backoff-ms", "10"])
            .args(extra);
        cmd
    };
    // Two photos of one's own, no manifest, no network: kept, and said so.
    let nayeon = dir.path().join("Nayeon");
    std::fs::create_dir_all(&nayeon).unwrap();
    std::fs::write(nayeon.join("a.jpg"), fixture("obama.jpg")).unwrap();
    std::fs::write(nayeon.join("b.png"), fixture("obama2.jpg")).unwrap();
    let out = testdata::command::run_ok(&mut offline("Nayeon", &[]));
    assert!(
        out.contains("Nayeon: no network: keeping the 2 photos present (2 of your own)"),
        "{out}"
    );
    assert!(
        nayeon.join("manifest.msgpack").is_file(),
        "make sees the person done"
    );
    // Enough photos: nothing is even tried.
    let out = testdata::command::run_ok(&mut offline("Nayeon", &["-n", "2"]));
    assert!(
        out.contains("Nayeon: 2 photos of your own, nothing downloaded"),
        "{out}"
    );
    // --offline never tries the network.
    let out = testdata::command::run_ok(&mut offline("Nayeon", &["--offline"]));
    assert!(out.contains("nothing downloaded (--offline)"), "{out}");
    // An empty folder offline is an error that names the folder.
    let err = testdata::command::run_err(&mut offline("Mina", &[]));
    assert!(
        err.contains("no network")
            && err.contains("Mina")
            && err.contains("put Mina's photos there"),
        "{err}"
    );
    let err = testdata::command::run_err(&mut offline("Sana", &["--offline"]));
    assert!(
        err.contains("Sana") && err.contains("has no photos"),
        "{err}"
    );
}

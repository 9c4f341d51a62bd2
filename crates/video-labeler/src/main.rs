//! `video-labeler`: boxes and names on every frame of a video, and each person's screen time.

mod draw;
mod pipeline;
mod screentime;
mod tracker;
mod video;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use facecore::labels::{
    FaceLabel, FrameLabels, LabelsFile, VideoInfo, LABELS_KIND, LABELS_VERSION,
};
use facecore::{
    AnalysisSettings, ClassifierFile, DetectionSettings, FaceAnalyzer, ModelDir, ModelFingerprint,
    Upsample,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use draw::{colour_of, Painter};
use pipeline::Settings;
use screentime::ScreenTime;
use video::{Codec, VideoSink, VideoSource};

/// Label the people in a video: a box and a name on each face, and their screen time.
///
/// Faces are detected every few frames and at every cut, followed in between, and named by a vote
/// over each track's embeddings, so labels do not flicker. Faces the model does not know (or not
/// confidently) are drawn as Unknown in grey.
#[derive(Parser, Debug)]
#[command(
    name = "video-labeler",
    version,
    about,
    long_about,
    after_help = "Example:\n  video-labeler -i input.mp4 -o labeled.mp4 -m model.msgpack -t 0.7 --report-dir report/"
)]
struct Args {
    /// The video to label.
    #[arg(short = 'i', long = "input", value_name = "VIDEO")]
    input: PathBuf,

    /// The labelled video (same resolution and frame rate, no sound: see audio-merger).
    #[arg(short = 'o', long = "output", value_name = "VIDEO")]
    output: PathBuf,

    /// The classifier from svm-trainer.
    #[arg(
        short = 'm',
        long = "model",
        value_name = "FILE",
        default_value = "model.msgpack"
    )]
    model: PathBuf,

    /// Probability under which a face is Unknown [default: the model's, 0.7].
    #[arg(short = 't', long = "threshold", value_name = "P")]
    threshold: Option<f64>,

    /// 1: show the frames in a window while processing (ignored when there is no display).
    #[arg(short = 'd', long = "display", value_name = "0|1", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    display: u8,

    /// Do not draw faces labelled Unknown.
    #[arg(long)]
    hide_unknown: bool,

    /// Write every frame's faces (box, track, name, probability) as MessagePack.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,

    /// The same labels as JSON.
    #[arg(long, value_name = "FILE")]
    labels_json: Option<PathBuf>,

    /// Write screen-time.csv and screen-time.png (a bar chart) into this folder.
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,

    /// Detect faces every N frames (and at every cut); tracking fills the frames in between.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=30))]
    detect_every: u64,

    /// Detect on frames scaled down to at most this width (smaller is faster, misses small faces).
    #[arg(long, value_name = "PX", default_value_t = 960)]
    detect_width: u32,

    /// Upsample detection frames this many times (finds faces half as big, about 4× slower).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=2))]
    upsample: u32,

    /// Output codec.
    #[arg(long, value_enum, default_value_t = Codec::H264)]
    codec: Codec,

    /// Folder with dlib's model files [default: $FACE_MODELS_DIR, else models/].
    #[arg(long, value_name = "DIR")]
    models_dir: Option<PathBuf>,

    /// Benchmark the ceiling: decode and encode only, no face work.
    #[arg(long, hide = true)]
    passthrough: bool,

    /// Print only errors.
    #[arg(short, long)]
    quiet: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

fn main() {
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    match run(Args::parse()) {
        Ok(()) => {}
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::exit(if STOP.load(Ordering::SeqCst) { 130 } else { 1 });
        }
    }
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let model = ClassifierFile::read(&args.model)?;
    model
        .check_fingerprint(&ModelFingerprint::current())
        .with_context(|| format!("cannot use {}", args.model.display()))?;
    let threshold = args.threshold.unwrap_or(model.default_threshold as f64);
    anyhow::ensure!(
        (0.0..=1.0).contains(&threshold),
        "--threshold must be between 0 and 1, got {threshold}"
    );
    for path in [&args.labels, &args.labels_json].into_iter().flatten() {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            bail!("cannot write {}: its folder does not exist", path.display());
        }
    }
    if let Some(dir) = &args.report_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let analysis = AnalysisSettings {
        detection: DetectionSettings {
            upsample: Upsample::Times(args.upsample),
            ..Default::default()
        },
        jitter: 1,
    };
    let analyzer = if args.passthrough {
        None
    } else {
        let models = ModelDir::locate(args.models_dir.as_deref());
        Some(FaceAnalyzer::load(&models, &analysis)?)
    };
    let source = VideoSource::open(&args.input)?;
    let (width, height, fps) = (source.width, source.height, source.fps);
    let mut sink = VideoSink::create(&args.output, fps, width, height, args.codec)?;
    let settings = Settings {
        detect_every: args.detect_every,
        detect_width: args.detect_width,
        analysis,
        threshold,
        passthrough: args.passthrough,
    };

    let mut display = args.display == 1;
    if display
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        eprintln!("warning: -d 1 ignored: there is no display (DISPLAY is not set)");
        display = false;
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(source.frame_count, ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} labelling [{bar:30}] {pos}/{len} frames  {per_sec}  ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );

    let mut painter = Painter::new(height);
    let mut screen = ScreenTime::new(model.classes.clone(), fps);
    let want_labels = args.labels.is_some() || args.labels_json.is_some();
    let mut frames: Vec<FrameLabels> = Vec::new();
    let outcome = pipeline::run(
        source,
        analyzer,
        &model,
        &settings,
        &STOP,
        |mut processed| {
            let mut labels = Vec::new();
            let mut unknown_here = false;
            for face in &processed.faces {
                let class = face.identity.class;
                match class {
                    Some(c) => screen.frames_shown[c] += 1,
                    None => unknown_here = true,
                }
                if class.is_some() || !args.hide_unknown {
                    let label = match class {
                        Some(c) => format!(
                            "{} {:.0}%",
                            model.classes[c],
                            face.identity.probability * 100.0
                        ),
                        None => "Unknown".to_string(),
                    };
                    painter.face(&mut processed.frame, &face.bbox, &label, colour_of(class))?;
                }
                if want_labels {
                    labels.push(FaceLabel {
                        bbox: face.bbox,
                        track: face.track,
                        name: class.map(|c| model.classes[c].clone()),
                        probability: face.identity.probability,
                    });
                }
            }
            screen.unknown_frames += unknown_here as u64;
            screen.total_frames += 1;
            sink.write(&processed.frame)?;
            if display {
                opencv::highgui::imshow("video-labeler", &processed.frame)?;
                opencv::highgui::wait_key(1)?;
            }
            if want_labels {
                frames.push(FrameLabels {
                    index: processed.index,
                    faces: labels,
                });
            }
            bar.inc(1);
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    if STOP.load(Ordering::SeqCst) {
        bail!(
            "interrupted: nothing was written ({} is unchanged)",
            args.output.display()
        );
    }
    if screen.total_frames == 0 {
        bail!("{} has no frames", args.input.display());
    }
    sink.finish()?;

    if want_labels {
        let labels = LabelsFile {
            kind: LABELS_KIND.to_string(),
            version: LABELS_VERSION,
            producer: format!("video-labeler {}", env!("CARGO_PKG_VERSION")),
            video: VideoInfo {
                path: args.input.display().to_string(),
                width,
                height,
                fps,
                frames: screen.total_frames,
            },
            classes: model.classes.clone(),
            threshold,
            frames,
            tracks: outcome
                .tracks
                .iter()
                .map(|t| t.summary(threshold, &model.classes))
                .collect(),
        };
        if let Some(path) = &args.labels {
            labels.write(path)?;
        }
        if let Some(path) = &args.labels_json {
            facecore::format::write_atomic(path, &serde_json::to_vec(&labels)?)?;
        }
    }
    if let Some(dir) = &args.report_dir {
        facecore::format::write_atomic(&dir.join("screen-time.csv"), screen.csv().as_bytes())?;
        screen.chart_png(&dir.join("screen-time.png"))?;
    }
    if !args.quiet {
        let seconds = started.elapsed().as_secs_f64();
        println!("{}", screen.table());
        println!(
            "{} frames in {seconds:.1} s ({:.1} frames/s), {} face tracks → {}",
            screen.total_frames,
            screen.total_frames as f64 / seconds,
            outcome.tracks.len(),
            args.output.display()
        );
        if let Some(dir) = &args.report_dir {
            println!(
                "screen time → {}/screen-time.csv, screen-time.png",
                dir.display()
            );
        }
    }
    Ok(())
}

//! `video-labeler`: boxes and names on every frame of a video, and each person's screen time.

mod analyse;
mod decide;
mod draw;
mod outputs;
mod page;
mod photos;
mod render;
mod saved_tracks;
mod screentime;
mod shots;
mod tracker;
mod video;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use classifier::Rules;
use cli::{DetectionArgs, ModelsArg, QuietArg};
use facecore::{FaceAnalyzer, ModelDir};
use facefile::format::model::ClassifierFile;
use facefile::EmbedderKind;

use analyse::AnalyseSettings;
use render::DrawOptions;
use video::{Codec, Encoding, VideoSink, VideoSource};

/// Label the people in a video (or a photo): a box and a name on each face, and their screen time.
///
/// Given a photo, or a folder of photos, it writes each with boxes and names and prints every
/// face's best candidates: the quick way to check a model. A video is read twice. First every cut is found and faces are detected every few frames and
/// at every cut, followed as tracks (split wherever a face stops looking like its track), and each
/// track is named once from all of its faces with the model's rule; then the boxes and names are
/// drawn. Faces the model cannot vouch for are Unknown (grey), and nobody is named twice at once.
#[derive(Parser, Debug)]
#[command(
    name = "video-labeler",
    version,
    about,
    long_about,
    after_help = "Examples:\n  video-labeler -i input.mp4 -o labeled.mp4 -m model.msgpack\n  video-labeler -i photo.jpg -o photo-labeled.jpg -m model.msgpack   # who is in this photo?\n  video-labeler -i input.mp4 -o labeled.mp4 -m model.msgpack --labels labels.msgpack --report-dir report/\n  video-labeler -i input.mp4 -o labeled.mp4 -m model.msgpack -d 1   # watch while it writes"
)]
struct Args {
    /// The video to label (.mp4, .mkv, .mov, .avi, .webm, .gif, …), or a photo (JPEG, PNG, WebP,
    /// BMP, TIFF), or a folder of photos.
    #[arg(short = 'i', long = "input", value_name = "VIDEO|PHOTO|DIR")]
    input: PathBuf,

    /// The labelled video (same resolution and frame rate, no sound: see audio-merger); for a photo,
    /// the labelled photo (JPEG); for a folder of photos, a folder. Photos need none: their faces'
    /// names are printed (see --format).
    #[arg(short = 'o', long = "output", value_name = "VIDEO|PHOTO|DIR")]
    output: Option<PathBuf>,

    /// Photos: how their faces are told on standard output: text, csv (one row per face:
    /// file,face,name,probability,left,top,right,bottom,best_guess,best_guess_probability) or json
    /// (one object per photo and line). CSV and JSON are printed even with --quiet.
    #[arg(long, value_enum, default_value_t = photos::Format::Text)]
    format: photos::Format,

    /// Replace an existing file that is not a labelled video or photo, or write into a folder the
    /// model's photos were read from (refused otherwise: a training photo or a video must never
    /// be lost by a mistyped -o).
    #[arg(long)]
    force: bool,

    /// The classifier from svm-trainer.
    #[arg(
        short = 'm',
        long = "model",
        value_name = "FILE",
        default_value = "model.msgpack"
    )]
    model: PathBuf,

    /// Probability a track's best candidate needs to be named [default: the one the model learned].
    #[arg(short = 't', long = "threshold", value_name = "P")]
    threshold: Option<f64>,

    /// 1: show the frames in a window while writing (ignored when there is no display).
    #[arg(short = 'd', long = "display", value_name = "0|1", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    display: u8,

    /// Do not draw faces labelled Unknown.
    #[arg(long)]
    hide_unknown: bool,

    /// On Unknown faces, also write the best guess: "Unknown (Mina? 33%)".
    #[arg(long)]
    show_guesses: bool,

    /// Write every frame's faces (box, track, name, probability) and each track's top candidates
    /// as MessagePack.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,

    /// The same labels as JSON.
    #[arg(long, value_name = "FILE")]
    labels_json: Option<PathBuf>,

    /// Write a report into this folder: index.html (open it in a browser: the video, who is on
    /// screen when, each person's best face, screen time), screen-time.csv and screen-time.png.
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,

    /// The video the report page plays, e.g. the final video with sound that audio-merger makes
    /// next (`make all` does this) [default: the labelled video, -o].
    #[arg(long, value_name = "FILE", requires = "report_dir")]
    page_video: Option<PathBuf>,

    /// Save each track's best faces into this folder (DIR/track-<id>/*.jpg, with DIR/tracks.msgpack
    /// saying what each was shown as), to correct the labels with `teach`: "track 14 is Jihyo"
    /// makes them training photos.
    #[arg(long, value_name = "DIR")]
    save_tracks: Option<PathBuf>,

    /// Detect faces every N frames (and at every cut); boxes are interpolated in between.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=30))]
    detect_every: u64,

    /// Detect on frames scaled down to at most this width (smaller is faster, misses small
    /// faces); faces are embedded from the full frame.
    #[arg(long, value_name = "PX", default_value_t = 960, value_parser = clap::value_parser!(u32).range(64..=8192))]
    detect_width: u32,

    #[command(flatten)]
    detection: DetectionArgs,

    /// Refuse videos whose frames are larger than this many megapixels (8K is 33): a frame that
    /// large takes hundreds of megabytes per copy.
    #[arg(long, value_name = "MP", default_value_t = video::DEFAULT_MAX_MEGAPIXELS, value_parser = clap::value_parser!(u64).range(1..=1000))]
    max_megapixels: u64,

    /// Output codec.
    #[arg(long, value_enum, default_value_t = Codec::H264)]
    codec: Codec,

    /// H.264 encoding speed: faster presets write bigger files at the same quality (ultrafast,
    /// superfast, veryfast, faster, fast, medium, slow, slower, veryslow).
    #[arg(long, value_name = "PRESET", default_value = "veryfast", value_parser = clap::builder::PossibleValuesParser::new(media::encode::X264_PRESETS))]
    preset: String,

    /// H.264 quality: lower is better and bigger (18 looks lossless, 23 is x264's default).
    #[arg(long, value_name = "CRF", default_value_t = 21, value_parser = clap::value_parser!(u8).range(0..=51))]
    crf: u8,

    /// How the two passes share the machine: in-turn finds every face first, then draws and
    /// encodes, so the face models and the encoder never hold memory at once, and the encoder's
    /// threads share each frame (about 200 MB less at 1080p); side-by-side draws while faces are
    /// still being found, which is faster (at 1080p on 2 cores by 10-40 %); auto is in-turn for
    /// frames larger than 720p on 2 cores or fewer, side-by-side otherwise. The labels are the
    /// same either way.
    #[arg(long, value_enum, default_value_t = Passes::Auto)]
    passes: Passes,

    #[command(flatten)]
    models: ModelsArg,

    /// Benchmark the ceiling: decode and encode only, no face work.
    #[arg(long, hide = true)]
    passthrough: bool,

    #[command(flatten)]
    quiet: QuietArg,
}

/// How the two passes share the machine (`--passes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Passes {
    /// In turn for frames larger than 720p on 2 cores or fewer, side by side otherwise.
    Auto,
    /// Every face found first, then the video drawn and encoded.
    InTurn,
    /// Drawing and encoding while faces are still being found.
    SideBySide,
}

impl Passes {
    /// On 2 cores, at 1080p, in turn keeps the labeler and its encoder under 400 MB (~365 MB;
    /// side by side ~570: the face models, two decoders and x264 at once, x264's threads each on a
    /// frame of its own, where in turn they share frames), for 10-40 % more time (measured on a
    /// machine whose speed drifts). At 720p side by side takes ~410 MB and running in turn ~20 %
    /// longer: there, and with cores to spare, side by side.
    fn resolve(self, cores: usize, width: u32, height: u32) -> Passes {
        let beyond_720p = u64::from(width) * u64::from(height) > 1280 * 720;
        match self {
            Passes::Auto if cores <= 2 && beyond_720p => Passes::InTurn,
            Passes::Auto => Passes::SideBySide,
            chosen => chosen,
        }
    }
}

fn main() {
    limit_heap_growth();
    cli::main(run)
}

/// Gives the pages of freed memory back to the system (glibc keeps them for reuse): called once
/// the face models are let go, so the encoder's buffers do not come on top of theirs.
fn return_freed_memory() {
    // SAFETY: malloc_trim only releases free pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Frames are large buffers allocated on one thread (a decoder's) and freed on another. glibc's
/// malloc keeps freed buffers in per-thread arenas, so with one arena per thread memory could double
/// over a long video depending on thread timing (measured: 240 or 470 MB on the same run); two
/// arenas keep it flat at no measurable cost in speed.
fn limit_heap_growth() {
    // SAFETY: mallopt only changes allocator tuning; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let quiet = args.quiet.quiet;
    if let Some(threshold) = args.threshold {
        cli::usage_ensure((0.0..=1.0).contains(&threshold), || {
            format!(
                "--threshold is the probability a name needs: between 0 and 1 (0.5 is 50 %), got \
                 {threshold}"
            )
        })?;
    }
    let model_file = ClassifierFile::read(&args.model)?;
    let embedder = model_embedder(&args, &model_file)?;
    let model = &model_file.body;
    let rules = Rules::new(model, args.threshold);
    outputs::check_paths(&args)?;
    outputs::check_not_training_data(&args, model)?;
    let settings = args.detection.settings(embedder, 1)?;
    if photos::is_photo_input(&args.input) {
        return label_photos(&args, settings, model, &rules);
    }
    let Some(output) = args.output.clone() else {
        return Err(cli::UsageError(format!(
            "{} is a video: give the labelled video's name with -o (e.g. -o labeled.mp4)",
            args.input.display()
        ))
        .into());
    };
    outputs::check_video_output(&output, args.force)?;
    // The face models load while ffprobe reads the video: each takes a few tenths of a second.
    let (opened, analyzer) = std::thread::scope(|scope| {
        let loading = (!args.passthrough).then(|| {
            scope.spawn(|| -> Result<FaceAnalyzer> {
                let models = ModelDir::new(&args.models.models_dir);
                models.verify_for(&settings)?;
                Ok(FaceAnalyzer::load(&models, settings)?)
            })
        });
        let opened = VideoSource::open(&args.input, args.max_megapixels);
        let analyzer = loading
            .map(|loading| loading.join().expect("loading the face models panicked"))
            .transpose();
        (opened, analyzer)
    });
    let mut first_source = opened?;
    let mut analyzer = analyzer?;
    let mut second_source = first_source.reopen()?;
    let display = display_wanted(args.display == 1);
    // Up to the longest gap between keyframes (faces that stay still are looked at less often).
    let hold_frames = args.detect_every * analyse::MAX_STEADY_GAPS - 1;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let in_turn = args
        .passes
        .resolve(cores, first_source.width, first_source.height)
        == Passes::InTurn;
    let mut sink = VideoSink::create(
        &output,
        first_source.fps,
        first_source.width,
        first_source.height,
        first_source.start_time(),
        &Encoding {
            codec: args.codec,
            preset: args.preset.clone(),
            crf: args.crf,
            // In turn is the way to save memory, the encoder's too.
            sliced_threads: in_turn,
        },
    )?;
    if let (Some((w, h)), false) = (sink.padded_size(), quiet) {
        eprintln!(
            "note: {}×{} is padded to {w}×{h} with black (the video codec needs even sizes); boxes \
             and labels keep the input's pixels",
            first_source.width, first_source.height
        );
    }
    let bars = indicatif::MultiProgress::with_draw_target(if quiet {
        indicatif::ProgressDrawTarget::hidden()
    } else {
        indicatif::ProgressDrawTarget::stderr()
    });
    let total = first_source.frame_count;
    let first_bar = bars.add(cli::progress::bar(
        "pass 1/2: finding faces",
        "frames",
        total,
        quiet,
    ));
    let second_bar = bars.add(cli::progress::bar(
        "pass 2/2: writing      ",
        "frames",
        total,
        quiet,
    ));
    let options = DrawOptions {
        hide_unknown: args.hide_unknown,
        show_guesses: args.show_guesses,
        colours: draw::Colours::of_model(model),
    };
    let mut track_faces = args
        .save_tracks
        .as_deref()
        .map(|dir| saved_tracks::TrackFaces::prepare(dir, args.force))
        .transpose()?;
    let stop = cli::run::interrupt_flag();
    let (segment_tx, segment_rx) = crossbeam_channel::unbounded();
    // The first pass works on this thread (the face models stay on the thread that loaded them);
    // side by side, the second draws and encodes beside it, as far as the first has decided.
    let (first, second) = std::thread::scope(|scope| {
        let classes = &model.classes;
        let sink = &mut sink;
        let second_bar = &second_bar;
        let track_faces = track_faces.as_mut();
        let second_source = &mut second_source;
        let write_second = move || {
            let result = render::second_pass(
                second_source,
                segment_rx,
                classes,
                &options,
                stop,
                second_bar,
                track_faces,
                |frame, time| {
                    if display {
                        opencv::highgui::imshow("video-labeler", &frame)?;
                        opencv::highgui::wait_key(1)?;
                    }
                    sink.write_at(frame, time)
                },
            );
            if result.is_err() {
                // Whatever went wrong here, the first pass has nothing left to do.
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            result
        };
        let mut write_second = Some(write_second);
        let beside = (!in_turn).then(|| scope.spawn(write_second.take().expect("not yet run")));
        let first = analyse::first_pass(
            &mut first_source,
            analyzer.as_mut(),
            &AnalyseSettings {
                detect_every: args.detect_every,
                detect_width: args.detect_width,
                split_distance: model.rule.split_distance,
                unit: embedder.unit_length(),
                hold_frames,
            },
            &analyse::Naming { rules: &rules },
            stop,
            &first_bar,
            segment_tx,
        );
        if first.is_err() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let second = match beside {
            Some(second) => second.join().expect("the second pass panicked"),
            None => {
                // In turn: the face models and the first decoder go before the second pass
                // decodes and the encoder fills its buffers.
                analyzer = None;
                // A decoder that fails to close has nothing left to give; the video was read.
                let _ = first_source.release();
                return_freed_memory();
                (write_second.take().expect("run once"))()
            }
        };
        (first, second)
    });
    first_bar.finish_and_clear();
    second_bar.finish_and_clear();
    let first = first?;

    if cli::interrupted() {
        bail!(
            "interrupted: nothing was written ({} is unchanged)",
            output.display()
        );
    }
    let second = second?;
    if first.frames == 0 {
        bail!("{} has no frames", args.input.display());
    }
    if let (n @ 1.., Some(message)) = &first.embed_errors {
        eprintln!("warning: {n} faces could not be embedded (first: {message})");
    }
    let rendered = second.rendered;
    if rendered.frames.len() as u64 != first.frames {
        bail!(
            "{} gave {} frames the second time it was read, {} the first; is it still being written?",
            args.input.display(),
            rendered.frames.len(),
            first.frames
        );
    }
    let analysis = analyse::Analysis {
        frames: first.frames,
        cuts: second.cuts,
        tracks: second.tracks,
    };
    let decisions = second.decisions;
    // Everything is complete and checked under partial names before anything is replaced.
    sink.close()?;
    outputs::write_all(
        &args,
        &outputs::Results {
            output: &output,
            source: &first_source,
            model: &model_file,
            rules: &rules,
            analysis: &analysis,
            decisions: &decisions,
            rendered: &rendered,
        },
    )?;
    sink.commit()?;
    let saved_tracks = match track_faces {
        Some(faces) => {
            let times: Vec<f64> = rendered.frames.iter().map(|f| f.time).collect();
            Some(faces.finish(
                &args.input,
                &args.model,
                &analysis.tracks,
                &decisions,
                &times,
                &model.classes,
            )?)
        }
        None => None,
    };

    if !quiet {
        let seconds = started.elapsed().as_secs_f64();
        println!("{}", rendered.screen.table());
        println!(
            "{} frames in {seconds:.1} s ({:.1} frames/s): {} shots, {} face tracks ({} named) → {}",
            analysis.frames,
            analysis.frames as f64 / seconds,
            analysis.cuts.len(),
            analysis.tracks.len(),
            decisions.iter().filter(|d| d.class.is_some()).count(),
            output.display()
        );
        if let Some(dir) = &args.report_dir {
            println!(
                "report → {0}/index.html (open it in a browser), {0}/screen-time.csv, screen-time.png",
                dir.display()
            );
        }
        if let (Some(dir), Some(_)) = (&args.save_tracks, &saved_tracks) {
            println!(
                "tracks' faces → {0}/ (a wrong or missing name? `teach --tracks {0} 14=Name` makes \
                 track 14's faces training photos of Name)",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Photo mode: each photo's faces named and told (text, CSV or JSON), and with -o a labelled copy.
fn label_photos(
    args: &Args,
    settings: facefile::AnalysisSettings,
    model: &facefile::format::model::Classifier,
    rules: &Rules,
) -> Result<()> {
    for (flag, given) in [
        ("--labels", args.labels.is_some()),
        ("--report-dir", args.report_dir.is_some()),
    ] {
        if given {
            eprintln!("note: {flag} applies to videos; it is ignored for photos (--labels-json and --format json tell the faces)");
        }
    }
    let work = photos::plan(&args.input, args.output.as_deref())?;
    for target in work.iter().filter_map(|(_, t)| t.as_ref()) {
        if target.exists() && !args.force && !photos::is_labelled_photo(target) {
            bail!(
                "{} exists and is not a photo this labeler wrote: it would be replaced; give \
                 another -o, or --force to replace it",
                target.display()
            );
        }
    }
    let models = ModelDir::new(&args.models.models_dir);
    models.verify_for(&settings)?;
    let mut analyzer = FaceAnalyzer::load(&models, settings)?;
    let (quiet, format) = (args.quiet.quiet, args.format);
    let mut stdout = Answers::default();
    // Once nobody reads the answers (`| head`), labelling goes on only for the files it writes.
    let writes_files = args.labels_json.is_some() || work.iter().any(|(_, o)| o.is_some());
    if format == photos::Format::Csv {
        stdout.print(&format!("{}\n", photos::CSV_HEADER))?;
    }
    let mut answers = Vec::new();
    let mut failed = 0;
    for (photo, output) in &work {
        if cli::interrupted() {
            bail!("interrupted");
        }
        if stdout.closed && !writes_files {
            break;
        }
        match photos::label_photo(
            &mut analyzer,
            rules,
            photo,
            output.as_deref(),
            args.show_guesses,
        ) {
            Ok(faces) => {
                match format {
                    photos::Format::Text if !quiet => {
                        stdout.print(&photos::describe(photo, &faces, &model.classes))?;
                        if let Some(output) = output {
                            stdout.print(&format!("  → {}\n", output.display()))?;
                        }
                    }
                    photos::Format::Text => {}
                    photos::Format::Csv => {
                        stdout.print(&photos::csv_rows(photo, &faces, &model.classes))?
                    }
                    photos::Format::Json => stdout.print(&format!(
                        "{}\n",
                        photos::json_object(photo, &faces, &model.classes)
                    ))?,
                }
                if args.labels_json.is_some() {
                    answers.push(photos::json_object(photo, &faces, &model.classes));
                }
            }
            Err(error) if work.len() > 1 => {
                failed += 1;
                eprintln!("error: {error:#}");
            }
            Err(error) => return Err(error),
        }
    }
    if let Some(path) = &args.labels_json {
        let json = serde_json::to_vec_pretty(&serde_json::json!({ "photos": answers }))?;
        facefile::fs::write_atomic(path, &json)?;
    }
    if failed > 0 {
        bail!("{failed} of {} photos could not be labelled", work.len());
    }
    Ok(())
}

/// Standard output for the photos' answers, until its reader goes away (`| head`, a closed
/// pipe): then nothing more is printed, and that is not an error, as with grep or ripgrep.
#[derive(Default)]
struct Answers {
    closed: bool,
}

impl Answers {
    fn print(&mut self, text: &str) -> Result<()> {
        use std::io::Write;
        if self.closed {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            other => other.context("cannot write the answers to standard output"),
        }
    }
}

/// The embedder the model was trained on; `--embedder` may only repeat it.
fn model_embedder(args: &Args, model: &ClassifierFile) -> Result<EmbedderKind> {
    let kind = model
        .embedder
        .as_ref()
        .and_then(|id| id.kind())
        .with_context(|| {
            format!(
                "{} was trained on embeddings this build does not know; train it again with `make train`",
                args.model.display()
            )
        })?;
    if let Some(asked) = args.detection.embedder {
        let asked = EmbedderKind::from(asked);
        if asked != kind {
            bail!(
                "{} was trained on {kind} embeddings, so it can only name {kind} faces, not --embedder \
                 {asked}; leave --embedder out, or encode and train with --embedder {asked}",
                args.model.display()
            );
        }
    }
    Ok(kind)
}

fn display_wanted(asked: bool) -> bool {
    if asked
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        eprintln!("warning: -d 1 ignored: there is no display (DISPLAY is not set)");
        return false;
    }
    asked
}

#[cfg(test)]
mod tests {
    use super::Passes;

    #[test]
    fn auto_runs_the_passes_in_turn_only_for_large_frames_on_two_cores() {
        assert_eq!(Passes::Auto.resolve(2, 1920, 1080), Passes::InTurn);
        assert_eq!(Passes::Auto.resolve(1, 1920, 1080), Passes::InTurn);
        assert_eq!(Passes::Auto.resolve(2, 1280, 720), Passes::SideBySide);
        assert_eq!(Passes::Auto.resolve(4, 1920, 1080), Passes::SideBySide);
        // What the user chose stands.
        assert_eq!(
            Passes::SideBySide.resolve(2, 3840, 2160),
            Passes::SideBySide
        );
        assert_eq!(Passes::InTurn.resolve(8, 640, 360), Passes::InTurn);
    }
}

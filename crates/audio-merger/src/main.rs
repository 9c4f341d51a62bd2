//! `audio-merger`: the labelled video with the original's sound.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;

use media::{file_arg, probe};

/// Put the original video's sound back on the processed (labelled) video.
///
/// The video stream is copied, never re-encoded. The audio is copied when the output container can
/// hold it, else converted to AAC, and cut where the video ends. The output is written atomically.
#[derive(Parser, Debug)]
#[command(
    name = "audio-merger",
    version,
    about,
    long_about,
    after_help = "Example:\n  audio-merger -i input.mp4 -p labeled.mp4 -o final.mp4"
)]
struct Args {
    /// The original video, with the sound.
    #[arg(short = 'i', long = "input", value_name = "VIDEO")]
    input: PathBuf,

    /// The processed video (from video-labeler), without sound.
    #[arg(short = 'p', long = "processed", value_name = "VIDEO")]
    processed: PathBuf,

    /// The result: processed video + original sound.
    #[arg(short = 'o', long = "output", value_name = "VIDEO")]
    output: PathBuf,

    /// Also keep the extracted sound in this file (e.g. audio.m4a).
    #[arg(short = 'a', long = "audio", value_name = "FILE")]
    audio: Option<PathBuf>,

    /// Delete the processed video once the result is written.
    #[arg(long)]
    remove_processed: bool,

    #[command(flatten)]
    quiet: cli::QuietArg,
}

fn main() {
    cli::main(run)
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case(extension))
}

/// Audio codecs an MP4/MOV file holds as they are; others are converted to AAC.
const MP4_AUDIO: &[&str] = &["aac", "mp3", "alac", "ac3", "eac3"];

fn container_takes(output: &Path, codec: &str) -> bool {
    let extension = output
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "mkv" => true,
        "mp4" | "m4v" | "mov" | "m4a" => MP4_AUDIO.contains(&codec),
        "webm" => ["opus", "vorbis"].contains(&codec),
        _ => codec == "aac",
    }
}

/// Runs ffmpeg into the hidden partial file beside `target`, checks the result with ffprobe (the
/// streams `expect`ed are there and the length is right), and only then renames it over `target`;
/// the partial file is removed on any failure.
fn write_with_ffmpeg(target: &Path, args: Vec<OsString>, expect: &Expected) -> Result<()> {
    if target.exists() && !target.is_file() {
        bail!(
            "{} is not a regular file (a device, a folder or a pipe): a video with its sound is \
             written to a file it can seek in and check; give a file name such as final.mp4",
            target.display()
        );
    }
    let parent = facefile::fs::parent_or_dot(target);
    if !parent.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist",
            target.display(),
            parent.display()
        );
    }
    facefile::fs::remove_stale_partials(target);
    let temp = facefile::fs::partial_path(target);
    let mut full = args;
    full.push(file_arg(&temp));
    let result = media::run_ffmpeg(&full, cli::run::interrupt_flag())
        .map_err(anyhow::Error::from)
        .and_then(|()| expect.check(&temp, target))
        .and_then(|()| {
            std::fs::rename(&temp, target)
                .with_context(|| format!("cannot move the result to {}", target.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// What a finished file must hold.
struct Expected {
    video: bool,
    audio: bool,
    /// Seconds, within a frame or two.
    duration: f64,
}

impl Expected {
    fn check(&self, written: &Path, target: &Path) -> Result<()> {
        let incomplete = |why: String| {
            anyhow::anyhow!(
                "{} was not written completely ({why}); is the disk full? {} is unchanged",
                target.display(),
                target.display()
            )
        };
        let media =
            probe(written).map_err(|e| incomplete(format!("ffprobe cannot read it: {e:#}")))?;
        if self.video && media.first("video").is_none() {
            return Err(incomplete("it has no video stream".into()));
        }
        if self.audio && media.first("audio").is_none() {
            return Err(incomplete("it has no sound".into()));
        }
        let duration = media.duration.unwrap_or(0.0);
        if duration + 0.2 < self.duration {
            return Err(incomplete(format!(
                "it lasts {duration:.2} s instead of {:.2} s",
                self.duration
            )));
        }
        Ok(())
    }
}

fn os(s: &str) -> OsString {
    OsString::from(s)
}

fn check_paths(args: &Args) -> Result<()> {
    let inputs = [
        ("--input", args.input.as_path()),
        ("--processed", args.processed.as_path()),
    ];
    let mut outputs = vec![("--output", args.output.as_path())];
    if let Some(audio) = &args.audio {
        outputs.push(("--audio", audio.as_path()));
    }
    facefile::fs::check_distinct(&inputs, &outputs)?;
    if args.remove_processed {
        facefile::fs::check_distinct(
            &[("--input", args.input.as_path())],
            &[(
                "--processed (with --remove-processed)",
                args.processed.as_path(),
            )],
        )
        .context("--remove-processed would delete the original")?;
    }
    Ok(())
}

/// The original has no sound (a GIF, a silent clip): the result is the labelled video as it is,
/// copied into the output's container, so a pipeline ends with the same file either way.
fn without_sound(args: &Args, video_duration: f64) -> Result<()> {
    let copy: Vec<OsString> = vec![
        os("-i"),
        file_arg(&args.processed),
        os("-map"),
        os("0:v:0"),
        os("-c:v"),
        os("copy"),
        os("-movflags"),
        os("+faststart"),
    ];
    write_with_ffmpeg(
        &args.output,
        copy,
        &Expected {
            video: true,
            audio: false,
            duration: video_duration,
        },
    )?;
    if args.audio.is_some() {
        eprintln!(
            "note: {} has no sound, so --audio wrote nothing",
            args.input.display()
        );
    }
    if args.remove_processed {
        std::fs::remove_file(&args.processed)
            .with_context(|| format!("cannot remove {}", args.processed.display()))?;
    }
    if !args.quiet.quiet {
        println!(
            "{} ← video of {} (copied); {} has no sound to put back",
            args.output.display(),
            args.processed.display(),
            args.input.display()
        );
    }
    Ok(())
}

/// The labeler tags what it writes; an original with the tag and a processed video without it (or
/// a "processed" video with sound beside a silent original) are the two files given the wrong way
/// round, which would make a final video without labels or without sound.
fn check_not_swapped(args: &Args, original: &media::Media, processed: &media::Media) -> Result<()> {
    use facefile::format::labels::LABELLED_VIDEO_COMMENT;
    let labelled = |m: &media::Media| m.comment.as_deref() == Some(LABELLED_VIDEO_COMMENT);
    let swapped = (labelled(original) && !labelled(processed))
        || (!labelled(processed)
            && processed.first("audio").is_some()
            && original.first("audio").is_none());
    if swapped {
        bail!(
            "{} and {} look given the wrong way round: -i is the original video (with its sound), \
             -p the labelled one video-labeler wrote (without sound); swap them",
            args.input.display(),
            args.processed.display()
        );
    }
    Ok(())
}

fn run(args: Args) -> Result<()> {
    check_paths(&args)?;
    let original = probe(&args.input)
        .with_context(|| format!("cannot read the original {}", args.input.display()))?;
    let processed = probe(&args.processed).with_context(|| {
        format!(
            "cannot read the processed video {}",
            args.processed.display()
        )
    })?;
    check_not_swapped(&args, &original, &processed)?;
    let video = processed
        .first("video")
        .with_context(|| format!("{} has no video stream", args.processed.display()))?;
    let video_duration = video
        .duration()
        .or(processed.duration)
        .with_context(|| format!("cannot tell how long {} is", args.processed.display()))?;
    let Some(audio) = original.first("audio") else {
        return without_sound(&args, video_duration);
    };
    let audio_codec = audio.codec_name.clone().unwrap_or_default();
    let copy_audio = container_takes(&args.output, &audio_codec);

    let audio_args = |copy: bool, output: &Path| -> Vec<OsString> {
        if copy {
            vec![os("-c:a"), os("copy")]
        } else if has_extension(output, "webm") {
            // WebM holds Opus or Vorbis only.
            vec![os("-c:a"), os("libopus"), os("-b:a"), os("160k")]
        } else {
            vec![os("-c:a"), os("aac"), os("-b:a"), os("192k")]
        }
    };
    let duration = format!("{video_duration:.6}");
    // Picture and sound stay where they were in the original: a video stream may start later
    // than its sound (the Hamilton clip's by 0.84 s). Timestamps are kept as they are (ffmpeg
    // would otherwise start each input at 0), and the labelled video is moved to start where the
    // original's video does (it already does when the labeler wrote it; older files start at 0).
    let original_video_start = original.first("video").map_or(0.0, |v| v.start_time());
    let shift = original_video_start - video.start_time();
    let video_end = original_video_start + video_duration;

    // Video from the processed file (copied), audio from the original, both cut where the video ends.
    let mut merge: Vec<OsString> = vec![os("-copyts")];
    if shift.abs() > 1e-4 {
        merge.extend([os("-itsoffset"), os(&format!("{shift:.6}"))]);
    }
    merge.extend([
        os("-i"),
        file_arg(&args.processed),
        os("-i"),
        file_arg(&args.input),
    ]);
    merge.extend([
        os("-map"),
        os("0:v:0"),
        os("-map"),
        os("1:a:0"),
        os("-c:v"),
        os("copy"),
    ]);
    merge.extend(audio_args(copy_audio, &args.output));
    merge.extend([
        os("-to"),
        os(&format!("{video_end:.6}")),
        os("-movflags"),
        os("+faststart"),
    ]);
    write_with_ffmpeg(
        &args.output,
        merge,
        &Expected {
            video: true,
            audio: true,
            duration: video_duration,
        },
    )?;

    if let Some(audio_path) = &args.audio {
        let keep_copy = container_takes(audio_path, &audio_codec);
        let mut extract: Vec<OsString> = vec![
            os("-i"),
            file_arg(&args.input),
            os("-vn"),
            os("-map"),
            os("0:a:0"),
        ];
        extract.extend(audio_args(keep_copy, audio_path));
        extract.extend([os("-t"), os(&duration)]);
        write_with_ffmpeg(
            audio_path,
            extract,
            &Expected {
                video: false,
                audio: true,
                duration: video_duration.min(original.duration.unwrap_or(video_duration)),
            },
        )?;
    }
    if args.remove_processed {
        std::fs::remove_file(&args.processed)
            .with_context(|| format!("cannot remove {}", args.processed.display()))?;
    }
    if !args.quiet.quiet {
        println!(
            "{} ← video of {} (copied) + sound of {} ({}{}), {video_duration:.2} s",
            args.output.display(),
            args.processed.display(),
            args.input.display(),
            audio_codec,
            if copy_audio { ", copied" } else { " → AAC" }
        );
        if let Some(audio_path) = &args.audio {
            println!("sound kept in {}", audio_path.display());
        }
    }
    Ok(())
}

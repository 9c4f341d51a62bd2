//! The folders of a data folder that are not people, named here so every stage (and `teach`, which
//! has no face models) agrees on them.

/// Where `make all` looks for the video to label.
pub const VIDEO_FOLDER: &str = "video";

/// Photos of people who are not members, one folder per person (`data/.strangers/<anyone>/`):
/// what the trainer sets its bar on.
pub const STRANGERS_FOLDER: &str = ".strangers";

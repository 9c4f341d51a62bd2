# The face-labelling pipeline. `make help` lists the targets.
#
# Each group has its own workspace: its photos in data/<group>/<member>/ (and the people who are
# not members in data/<group>/.strangers/), everything made from them in out/<group>/, so two groups
# never mix. A stage is redone when what it reads changed: the photos of any person folder (by
# their names, sizes and dates), the video (by its content), the model.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO      ?= cargo
MODELS_DIR ?= $(or $(FACE_MODELS_DIR),models)
GROUP      ?= TWICE
ifeq ($(GROUP),TWICE)
MEMBERS    ?= Nayeon Jeongyeon Momo Sana Jihyo Mina Dahyun Chaeyoung Tzuyu
endif
DATA       ?= data/$(GROUP)
OUT        ?= out/$(GROUP)
VIDEO      ?= $(DATA)/video/input.mp4
PHOTOS     ?= 50
# People who are not members (other groups' idols) to download, a few photos each, into
# $(DATA)/.strangers/: the trainer sets its bar on them. 0: none (your own strangers still count).
STRANGERS        ?= 40
STRANGER_PHOTOS  ?= 3
ENCODINGS  ?= $(OUT)/encodings.msgpack
MODEL      ?= $(OUT)/model.msgpack
REPORT     ?= $(OUT)/model-report.json
CONFUSION  ?= $(OUT)/confusion.png
LABELS     ?= $(OUT)/labels.msgpack
LABELED    ?= $(OUT)/labeled.mp4
FINAL      ?= $(OUT)/final.mp4
REPORT_DIR ?= $(OUT)/report
# Each track's best faces, for `make teach`.
TRACKS     ?= $(OUT)/tracks
# Corrections for `make teach`: SAY="14=Jihyo 3,5-7=Momo 11=stranger", ACCEPT=2,9 (the names
# shown or guessed were right).
SAY        ?=
ACCEPT     ?=
# Extra downloader flags, e.g. DOWNLOAD_FLAGS=--offline to use only the photos already there.
DOWNLOAD_FLAGS ?=
# Extra labeler flags, e.g. LABEL_FLAGS="--show-guesses".
LABEL_FLAGS ?=
# Your e-mail address or web page, sent to Wikimedia as its User-Agent policy asks (or set
# FACELABEL_CONTACT in the environment).
CONTACT    ?=
SHARED     ?= $(or $(FACELABEL_SHARED),$(abspath ../shared))
BIN        ?= target/release
# NO_BUILD=1: use the programs in $(BIN) as they are (the tests do).
BUILT      := $(if $(NO_BUILD),,build)

export FACE_MODELS_DIR := $(abspath $(MODELS_DIR))
export FACELABEL_SHARED := $(SHARED)

PHOTOS_STAMP := $(OUT)/.photos.stamp
VIDEO_STAMP  := $(OUT)/.video.stamp

.PHONY: help deps models fixtures build test test-shared lint encode train label teach bench eval \
	clean clean-build all demo check-video check-members strangers FORCE

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo
	@echo "  Workspace: GROUP=$(GROUP) → photos in $(DATA)/<member>/, results in $(OUT)/"

deps: ## Install the system packages (apt-get; needs root or sudo)
	scripts/install-deps.sh

models: ## Fetch and verify the model files (SFace + YuNet, dlib) into $(MODELS_DIR)/
	scripts/fetch-models.sh "$(MODELS_DIR)"

fixtures: ## Fetch the real test photos (PyPI's face_recognition 1.3.0 sdist)
	scripts/fetch-test-fixtures.sh

build: ## Build every stage (release)
	$(CARGO) build --release --workspace

test: models fixtures ## Run the tests (needs the package registries only)
	$(CARGO) test --release --workspace

test-shared: models ## Run the second tier of tests, on the datasets in $(SHARED)/data
	@test -d "$(SHARED)/data" || { echo "error: $(SHARED)/data not found; set SHARED=/path/to/shared" >&2; exit 1; }
	$(CARGO) test --release --workspace -- --ignored

lint: ## Check formatting and clippy lints
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

encode: $(ENCODINGS) ## Clean and encode the photos in $(DATA)/<person>/ into $(ENCODINGS)

train: $(MODEL) ## Train the classifier on $(ENCODINGS) into $(MODEL) (+ $(REPORT))

label: check-video $(LABELED) ## Label $(VIDEO) with $(MODEL) into $(LABELED) (+ $(REPORT_DIR)/index.html)

teach: | $(BUILT) ## Correct the labels: list the tracks, or SAY="14=Jihyo 11=stranger" ACCEPT=2,9 → photos in $(DATA)/; then make all
	$(BIN)/teach --tracks "$(TRACKS)" -d "$(DATA)" $(SAY) $(if $(ACCEPT),--accept "$(ACCEPT)")

bench: models build ## Print speed and accuracy figures (models, encoder, labeler, cleaner, trainer) on the shared data
	$(CARGO) run --release -q -p facecore --example bench-models
	scripts/bench-encoder.sh "$(SHARED)/data"
	scripts/bench-labeler.sh "$(SHARED)/data"
	scripts/bench-cleaner.sh "$(SHARED)/data"
	$(CARGO) run --release -q -p svm-fit --example bench -- "$(SHARED)/data/seed/seed_embeddings.csv"

EMBEDDER ?= sface
EVAL_SETS ?= all 10 taught
eval: models build ## Train on TWICE dev photos (all, 10 per member, 5 of 9 members), label every dev clip, print per-clip figures (EMBEDDER=sface|dlib, EVAL_SETS=…)
	$(CARGO) build --release -q -p video-labeler --example eval-clips
	scripts/eval.sh "$(SHARED)/data" "$(EMBEDDER)" "$(EVAL_SETS)"

clean: ## Remove what was made for GROUP ($(OUT)/): never your photos, models or the build
	rm -rf "$(OUT)"

clean-build: ## Remove the build (cargo clean)
	$(CARGO) clean

# ---- The whole pipeline, one file target per stage: make redoes only what changed. ----
MANIFESTS := $(foreach m,$(MEMBERS),$(DATA)/$(m)/manifest.msgpack)

all: check-members check-video $(FINAL) ## Whole pipeline: GROUP=… MEMBERS=… VIDEO=… → $(FINAL) + $(REPORT_DIR)/index.html
	@echo
	@echo "labelled video with sound: $(FINAL)"
	@echo "report (open in a browser): $(REPORT_DIR)/index.html"
	@echo "screen time, appearances:  $(REPORT_DIR)/screen-time.csv, $(REPORT_DIR)/appearances.csv"
	@echo "model report:              $(REPORT), $(CONFUSION)"
	@echo "photos to review:          $(DATA)/review.html"
	@echo "a wrong or missing name:   make teach (lists the tracks), then make teach SAY=\"14=Jihyo\" and make all"

check-members:
	@test -n "$(strip $(MEMBERS))" || { echo "error: no MEMBERS for GROUP=$(GROUP): give them, e.g. make all GROUP=aespa MEMBERS=\"Karina Giselle Winter Ningning\"" >&2; exit 1; }

check-video:
	@test -f "$(VIDEO)" || { echo "error: no video at $(VIDEO): put the video to label there, or run make all VIDEO=path/to/video.mp4" >&2; exit 1; }

# A folder that already holds photos needs no network: the downloader counts them, tops the folder
# up to $(PHOTOS) when it can, and otherwise keeps what is there. A member it finds no photo of is
# an error, and no empty folder is left.
$(DATA)/%/manifest.msgpack: | $(BUILT) models
	$(BIN)/downloader -k "$(GROUP) $*" --dir-name "$*" -n $(PHOTOS) -d "$(DATA)" $(if $(CONTACT),--contact "$(CONTACT)") $(DOWNLOAD_FLAGS)

# Other groups' members, once; a run without network only says so (the trainer then learns its
# rule from the members alone, or from the strangers you put there yourself).
strangers: $(DATA)/.strangers/.downloaded ## Download STRANGERS people who are not members into $(DATA)/.strangers/

$(DATA)/.strangers/.downloaded: | $(BUILT) models
	@mkdir -p "$(DATA)/.strangers"
	@if [[ " $(DOWNLOAD_FLAGS) " == *" --offline "* ]]; then \
		echo "note: offline: no strangers downloaded; the rule is learned from what $(DATA)/.strangers/ holds"; \
	elif $(BIN)/downloader --strangers $(STRANGERS) --stranger-photos $(STRANGER_PHOTOS) --group "$(GROUP)" -d "$(DATA)" $(if $(CONTACT),--contact "$(CONTACT)") $(DOWNLOAD_FLAGS); then \
		touch "$@"; \
	else \
		echo "note: no strangers downloaded this time; the rule is learned from what $(DATA)/.strangers/ holds" >&2; \
	fi

# What the person folders hold, rewritten only when it changed (scripts/stamp.sh).
$(PHOTOS_STAMP): $(MANIFESTS) $(if $(filter-out 0,$(STRANGERS)),$(DATA)/.strangers/.downloaded) FORCE
	@scripts/stamp.sh "$@" folder "$(DATA)"

# The cleaner runs whenever a person folder changed (your own photos included), then the stamp is
# taken again of the cleaned folders.
$(DATA)/clean-report.msgpack: $(PHOTOS_STAMP) | $(BUILT) models
	$(BIN)/cleaner -d "$(DATA)"
	@scripts/stamp.sh "$(PHOTOS_STAMP)" folder "$(DATA)"

# The encoder always looks (it is incremental by file hash and leaves the file untouched when
# nothing changed, so nothing after it runs again needlessly); an interrupted run keeps what it
# finished.
.PRECIOUS: $(ENCODINGS)
$(ENCODINGS): $(DATA)/clean-report.msgpack FORCE | $(BUILT) models
	@mkdir -p "$(OUT)"
	$(BIN)/encoder -d "$(DATA)" -f "$@"

$(MODEL): $(ENCODINGS) | $(BUILT)
	$(BIN)/svm-trainer -i "$<" -o "$@" --report "$(REPORT)" --plot "$(CONFUSION)"

# The video by its content: another video (even an older file) means new labels.
$(VIDEO_STAMP): FORCE
	@scripts/stamp.sh "$@" file "$(VIDEO)"

$(LABELED): $(MODEL) $(VIDEO_STAMP) | $(BUILT) models
	$(BIN)/video-labeler -i "$(VIDEO)" -o "$@" -m "$(MODEL)" --labels "$(LABELS)" --report-dir "$(REPORT_DIR)" --save-tracks "$(TRACKS)" --page-video "$(FINAL)" $(LABEL_FLAGS)

$(FINAL): $(LABELED) $(VIDEO_STAMP) | $(BUILT)
	$(BIN)/audio-merger -i "$(VIDEO)" -p "$(LABELED)" -o "$@"

demo: models build ## The whole pipeline on real photos from PyPI, offline but for the registries → demo/
	scripts/demo.sh demo
	mkdir -p docs
	cp demo/report/frame-obama.png demo/report/frame-biden.png demo/report/screen-time.png docs/

FORCE:

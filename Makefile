# The face-labelling pipeline. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO      ?= cargo
MODELS_DIR ?= $(or $(FACE_MODELS_DIR),models)
DATA       ?= data
ENCODINGS  ?= encodings.msgpack
MODEL      ?= model.msgpack
VIDEO      ?= data/video/input.mp4
LABELED    ?= labeled.mp4
FINAL      ?= final.mp4
GROUP      ?= TWICE
MEMBERS    ?= Nayeon Jeongyeon Momo Sana Jihyo Mina Dahyun Chaeyoung Tzuyu
PHOTOS     ?= 50
REPORT     ?= report.json
REPORT_DIR ?= report
LABELS     ?= labels.msgpack
CONFUSION  ?= confusion.png
# Extra downloader flags, e.g. DOWNLOAD_FLAGS=--offline to use only the photos already in data/.
DOWNLOAD_FLAGS ?=
# Your e-mail address or web page, sent to Wikimedia as its User-Agent policy asks (or set
# FACELABEL_CONTACT in the environment).
CONTACT    ?=
SHARED     ?= $(or $(FACELABEL_SHARED),$(abspath ../shared))
BIN        := target/release

export FACE_MODELS_DIR := $(abspath $(MODELS_DIR))
export FACELABEL_SHARED := $(SHARED)

.PHONY: help deps models fixtures build test test-shared lint encode train label bench eval clean all demo check-video FORCE

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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

encode: models build ## Encode the faces in $(DATA)/<person>/ into $(ENCODINGS)
	$(BIN)/encoder -d "$(DATA)" -f "$(ENCODINGS)"

train: build ## Train the classifier on $(ENCODINGS) into $(MODEL) (+ $(REPORT))
	@test -f "$(ENCODINGS)" || { echo "error: $(ENCODINGS) not found; run make encode first" >&2; exit 1; }
	$(BIN)/svm-trainer -i "$(ENCODINGS)" -o "$(MODEL)" --report "$(REPORT)" --plot "$(CONFUSION)"

label: build ## Label $(VIDEO) with $(MODEL) into $(LABELED) (+ $(REPORT_DIR)/index.html)
	@test -f "$(VIDEO)" || { echo "error: $(VIDEO) not found; put your video there or pass VIDEO=path" >&2; exit 1; }
	@test -f "$(MODEL)" || { echo "error: $(MODEL) not found; run make train first" >&2; exit 1; }
	$(BIN)/video-labeler -i "$(VIDEO)" -o "$(LABELED)" -m "$(MODEL)" --labels "$(LABELS)" --report-dir "$(REPORT_DIR)"

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

# ---- The whole pipeline, one file target per stage: make redoes only what changed. ----
MANIFESTS   := $(foreach m,$(MEMBERS),$(DATA)/$(m)/manifest.msgpack)

all: check-video $(FINAL) ## Whole pipeline: MEMBERS=… VIDEO=… → $(FINAL) + $(REPORT_DIR)/index.html
	@echo
	@echo "labelled video with sound: $(FINAL)"
	@echo "report (open in a browser): $(REPORT_DIR)/index.html"
	@echo "screen time:               $(REPORT_DIR)/screen-time.csv, $(REPORT_DIR)/screen-time.png"
	@echo "model report:              $(REPORT), $(CONFUSION)"
	@echo "photos to review:          $(DATA)/review.html"

check-video:
	@test -f "$(VIDEO)" || { echo "error: no video at $(VIDEO): put the video to label there, or run make all VIDEO=path/to/video.mp4" >&2; exit 1; }

# A folder that already holds photos needs no network: the downloader counts them, tops the folder
# up to $(PHOTOS) when it can, and otherwise keeps what is there.
$(DATA)/%/manifest.msgpack: | build models
	$(BIN)/downloader -k "$(GROUP) $*" --dir-name "$*" -n $(PHOTOS) -d "$(DATA)" $(if $(CONTACT),--contact "$(CONTACT)") $(DOWNLOAD_FLAGS)

$(DATA)/clean-report.msgpack: $(MANIFESTS) | build models
	$(BIN)/cleaner -d "$(DATA)"

# The encoder always looks (the cleaner may have renamed or converted photos since make started);
# it is incremental by file hash and leaves the file untouched when nothing changed, so nothing
# after it runs again needlessly.
$(ENCODINGS): $(DATA)/clean-report.msgpack FORCE | build models
	$(BIN)/encoder -d "$(DATA)" -f "$@"

FORCE:

$(MODEL): $(ENCODINGS) | build
	$(BIN)/svm-trainer -i "$<" -o "$@" --report "$(REPORT)" --plot "$(CONFUSION)"

$(LABELED): $(MODEL) $(VIDEO) | build models
	$(BIN)/video-labeler -i "$(VIDEO)" -o "$@" -m "$(MODEL)" --labels "$(LABELS)" --report-dir "$(REPORT_DIR)"

$(FINAL): $(LABELED) $(VIDEO) | build
	$(BIN)/audio-merger -i "$(VIDEO)" -p "$(LABELED)" -o "$@"

demo: models build ## The whole pipeline on real photos from PyPI, offline but for the registries → demo/
	scripts/demo.sh demo
	mkdir -p docs
	cp demo/report/frame-obama.png demo/report/frame-biden.png demo/report/screen-time.png docs/

clean: ## Remove build outputs (never your data or models)
	$(CARGO) clean

# Product Image Studio: every target does its own set-up on a fresh Debian machine, idempotently.
#   make test    venv + packages + Debian data, then the test suite
#   make demo    venv + packages + Debian data, then the app on the shipped weights (http://127.0.0.1:7860)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.studio-installed
TORCH := torch==2.13.0
APT_PACKAGES := $(shell cat packages.txt)
# The files each Debian package provides; apt-get runs only when one is missing.
DATA_FILES := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
              /usr/share/sweethome3d/furniture/BlendSwap-CC-0.sh3f
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: help setup data browser postgres test demo bench bench-data clean

help:
	@echo "make test   set up (.venv, packages, Debian data) and run the test suite"
	@echo "make demo   set up and launch the app (app.py) on the shipped weights"
	@echo "make bench  set up and run the benchmarks in bench/"

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU wheel on disk: an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml requirements.txt | $(PY)
	$(PIP) install -q $(TORCH)
	$(PIP) install -q $(TORCH) -e '.[test]'
	touch $@

data:
	@missing=0; for f in $(DATA_FILES); do [ -e "$$f" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing Debian data packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi

# Debian's Chromium for the browser test (Playwright must not download its own: there is no network for it).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser test"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends chromium; \
	fi

# Debian's PostgreSQL server for the board tests on a real Postgres (a throwaway cluster per test session).
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing Debian's postgresql for the board tests"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends postgresql; \
	fi

setup: $(STAMP) data

test: setup browser postgres
	$(PY) -m pytest -q

demo: setup
	exec $(PY) app.py

# The benchmarks' real photo, the upscaler's and the cut-out's photos and textures (Debian's mate-backgrounds,
# gnome-backgrounds, gimp-data; GPL / CC-BY-SA) and the cut-out's clip art (openclipart-png, public domain):
# read from the packages, never copied here.
BENCH_PHOTO := /usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg
PHOTO_FILES := $(BENCH_PHOTO) /usr/share/backgrounds/gnome/wood-l.webp /usr/share/gimp/2.0/patterns/Stone/rock.pat \
               /usr/share/openclipart/png
bench-data:
	@missing=0; for f in $(PHOTO_FILES); do [ -e "$$f" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
	  echo "installing Debian's mate-backgrounds, gnome-backgrounds, gimp-data (photos and textures) and openclipart-png"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends mate-backgrounds \
	    gnome-backgrounds gimp-data openclipart-png; \
	fi

# Each bench/<name>.py prints `name: value (baseline value, ratio)` lines; bench/_*.py are helpers.
bench: setup bench-data
	@for f in bench/[!_]*.py; do echo "== $$f"; $(PY) "$$f" || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache

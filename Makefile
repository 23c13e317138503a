# tolmach: `make demo` runs the main job on a real Russian sample (or FILE=...), `make test` runs
# the checks and tests. Both install what they need first (Debian packages, a virtualenv, models).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
TOLMACH := $(VENV)/bin/tolmach
APT_PACKAGES := ffmpeg fonts-dejavu-core fonts-noto-core cmake build-essential python3-venv openssl chromium wrk espeak-ng postgresql redis-server
SAMPLE := samples/ru-sample.mp4
FILE ?= $(SAMPLE)
OUT ?= out
PYTEST_ARGS ?=

.PHONY: setup system python models demo test lint clean

setup: system python models

system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[llama,dev]'
	touch $@

models: python
	$(TOLMACH) models install

$(SAMPLE): samples/ru.wav | system
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -i samples/ru.wav \
	  -shortest -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -b:a 96k -movflags +faststart $@

demo: setup $(SAMPLE)
	$(TOLMACH) run "$(FILE)" --out "$(OUT)"

lint: python
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

test: setup lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The same tests again on a throwaway PostgreSQL server (scripts/with-postgres): one database per
# test, made from a migrated template. Fails when a test fails or none is collected.
.PHONY: test-postgres
test-postgres: setup
	scripts/with-postgres $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(OUT) $(SAMPLE)

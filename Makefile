# The two commands: `make demo` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8443
PYTEST_ARGS ?=

.PHONY: demo test install clean screenshots

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Microcred needs Python 3.11 or newer (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Run the tool on its embedded default (SQLite, local storage, practice LMS) at https://localhost:$(PORT)
# The practice LMS is served only on this opt-in, and only on a loopback TOOL_BASE_URL.
demo: export PRACTICE_LMS = 1
demo: export TOOL_BASE_URL ?= https://localhost:$(PORT)
demo: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	$(BIN)/flask --app wsgi dev-cert
	@echo "Microcred is starting at https://localhost:$(PORT)/ (accept the development certificate once)."
	$(BIN)/flask --app wsgi run --host localhost --port $(PORT) --cert instance/dev-cert.pem --key instance/dev-key.pem

## Run the whole suite (SQLite always; PostgreSQL too when one can be found or TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Screenshots of the main pages at 1280 and 360 px, inside the practice LMS, into docs/screenshots/
# (the browser journey tests take them: needs Chromium and npm, for axe-core)
screenshots: $(STAMP)
	test -f tests/browser/node_modules/axe-core/axe.min.js || npm ci --prefix tests/browser --no-audit --no-fund
	SCREENSHOTS_DIR=docs/screenshots REQUIRE_FULL_STACK=1 $(BIN)/python -m pytest -p no:cacheprovider -q \
		tests/browser/test_journeys.py -k 'test_page and not es-'

clean:
	rm -rf $(VENV) .pytest_cache

## Translations: extract the strings marked in lti_tool/ (babel.cfg), merge them into each language's .po
## (translate the new, empty msgstr entries, then run this again), compile the .mo files the app loads.
## The .mo files are committed, so `make demo` and `make test` need no compile step on a fresh machine;
## tests/test_i18n.py fails when a .mo and its .po disagree or a string is left untranslated.
.PHONY: translations
translations: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --project=Microcred --version=0.1.0 \
		--msgid-bugs-address= --sort-by-file -o lti_tool/translations/messages.pot lti_tool
	$(BIN)/pybabel -q update -i lti_tool/translations/messages.pot -d lti_tool/translations --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel compile --statistics -d lti_tool/translations

# The two commands: `make demo` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8443
PYTEST_ARGS ?=

.PHONY: demo test install clean

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

clean:
	rm -rf $(VENV) .pytest_cache

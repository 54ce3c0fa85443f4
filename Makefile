# The verbs people type. `make run` and `make test` each do all set-up on a fresh machine.
PYTHON ?= python3
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install vendor run demo test lint format services browser office graphviz bench bench-quick bench-national wrk i18n clean mutate bench-directory

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## vendor: the front-end libraries from the npm registry (package-lock.json), copied with their
## licences into web/static/vendor, which is not in git
VENDOR := web/static/vendor/htmx.min.js
$(VENDOR): package.json package-lock.json
	@command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null)
	npm ci --no-audit --no-fund --silent
	mkdir -p web/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@
	cp node_modules/htmx.org/LICENSE web/static/vendor/htmx.LICENSE

vendor: $(VENDOR)

install: $(INSTALLED) $(VENDOR)

## run: install, migrate, load the demo, print its logins, then serve on PORT (default 8000)
run: install graphviz
	$(BIN)/roadmap db upgrade
	$(BIN)/roadmap demo
	@echo
	@echo "In another shell (prefix with $(BIN)/ or activate the venv):"
	@echo "  roadmap occurrences list --as school1 --state planned"
	@echo "  roadmap transition ID start --as school1"
	@echo "  roadmap escalations"
	@echo
	$(BIN)/roadmap serve --port $(PORT)

## test: install, start PostgreSQL and Redis if needed, run the whole suite on both databases
test: install services browser office graphviz lint
	$(BIN)/pytest

## browser: Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`)
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

## graphviz: Debian's Graphviz, whose `dot` lays out the lifecycle diagrams
graphviz:
	@command -v dot >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null)

## office: Debian's LibreOffice Writer and Calc (print DOCX and XLSX to PDF: the PDF import and
## the reports' tests) and
## poppler's pdftoppm (PDF pages to PNG, to look at a report)
office:
	@(command -v pdftoppm && dpkg -s libreoffice-writer-nogui libreoffice-calc-nogui) >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils >/dev/null)

services:
	@bash .ci/services

## bench: the benchmarks on 2,000 schools (about 1,040,000 occurrences); prints the table,
## writes bench/results.json. They report numbers; no test asserts them.
bench: install services wrk
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

## bench-quick: the same on 200 schools with shorter runs, in about three minutes
bench-quick: install services wrk
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench --quick

## bench-national: the same on 10,000 schools in 100 municipalities (about 5,100,000
## occurrences), in about half an hour; writes bench/results-national.json. Not run in CI.
bench-national: install services wrk
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench --national

## bench-directory: 5,000 schools and about 20,000 people imported, re-imported and listed
bench-directory: install services
	$(BIN)/python -m bench.directory

## mutate: mutation testing of the guarantee-bearing modules (pyproject's [tool.mutmut]);
## prints each surviving mutant. Not part of `make test`: it takes a while.
mutate: install
	rm -rf mutants
	ROADMAP_MUTATING=1 ROADMAP_SEEDS=$(abspath ../shared/seeds) $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

## wrk: Debian's HTTP load generator, for the benchmarks
wrk:
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## i18n: collect the UI's messages and add new ones to the English catalog (then translate them)
i18n: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k lazy_gettext -k _l -k N_ --no-location -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -l en --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis

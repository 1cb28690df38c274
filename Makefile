# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test bench translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/moderation run

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/retrain.py
	$(BIN)/python bench/unseen_sites.py

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o moderation/translations/messages.pot .
	$(BIN)/pybabel update -i moderation/translations/messages.pot -d moderation/translations
	$(BIN)/pybabel compile -d moderation/translations --statistics

clean:
	rm -rf $(VENV) instance .pytest_cache

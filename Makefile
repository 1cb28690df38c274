# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run lint test screenshots bench translations wordpress-plugin lock clean

# constraints.txt pins every package we ship and test with (`make lock` writes it anew).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/moderation run

# Two processes: most tests wait on workers, browsers and services rather than on the CPU. The WordPress and
# client-library tests each share one running service, so each group stays in one process.
# The code's lint and format (pyproject's [tool.ruff]); `ruff format .` and `ruff check --fix .` mend most of it.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The README's pictures (docs/screenshots), from the dashboard and WordPress tests; `make test` leaves them alone.
screenshots: install
	MODERATION_SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_screenshots.py tests/wordpress/test_wp_admin.py

bench: install
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/queue_page.py
	$(BIN)/python bench/retrain.py
	$(BIN)/python bench/unseen_sites.py
	$(BIN)/python bench/encoder_bound.py
	$(BIN)/python bench/budget_replay.py
	$(BIN)/python bench/learning_curve.py
	$(BIN)/python bench/compat_latency.py
	$(BIN)/python bench/sqlite_lock_wait.py
	command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/decision_latency.py

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o moderation/translations/messages.pot .
	$(BIN)/pybabel update -i moderation/translations/messages.pot -d moderation/translations
	$(BIN)/pybabel compile -d moderation/translations --statistics

# The WordPress plugin as an installable zip (dist/moderation.zip), its translations compiled first.
wordpress-plugin: install
	$(BIN)/python integrations/build_wordpress.py

# Resolve the dependencies afresh in a scratch virtualenv and pin the result (then review the diff).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q ".[test]"
	printf '%s\n' "# Every package the service and its tests install, pinned. Written by \`make lock\`; used by" \
	  "# \`make install\` and by production installs (pip install -c constraints.txt .). Audit: see README." > constraints.txt
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -iv '^moderation[= ]' >> constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) instance .pytest_cache dist

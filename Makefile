# The README's commands. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test chromium clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo
	@echo "  Orders hub on http://127.0.0.1:$(PORT)  (JSON API under /api)"
	@echo "  Demo sign-ins (user / password):"
	@echo "    admin / admin-demo        manager / manager-demo    cook / cook-demo"
	@echo "    waiter / waiter-demo      customer / customer-demo"
	@echo
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --with-threads

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(VENV)/.installed chromium
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance/orders.db*

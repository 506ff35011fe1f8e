# The README's commands. Everything installs into .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run serve test chromium clean

# Running needs the package alone; the test tools come with `make test`.
# The versions installed are the ones the suite was run on (constraints.txt).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# make run is for trying the product: development mode, so it runs on the public development
# SECRET_KEY (anything else without SECRET_KEY refuses to start).
run: export ORDERS_ENV = development
run: $(VENV)/.installed
	@$(FLASK) check-database
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo
	@echo "  Orders hub on http://127.0.0.1:$(PORT)  (JSON API under /api)"
	@echo "  Demo sign-ins (user / password):"
	@echo "    admin / admin-demo        manager / manager-demo    cook / cook-demo"
	@echo "    waiter / waiter-demo      customer / customer-demo"
	@echo
	$(FLASK) run --host 127.0.0.1 --port $(PORT) --with-threads

# Production: gunicorn, several workers, PostgreSQL, Redis for the rate limits (README: Production).
SERVE_PORT ?= 8000
WEB_CONCURRENCY ?= 4
RATELIMIT_STORAGE_URI ?= redis://127.0.0.1:6379/0

serve: $(VENV)/.installed
	@test -n "$(DATABASE_URL)" || { echo "make serve needs DATABASE_URL, e.g." \
	  "DATABASE_URL=postgresql://user@127.0.0.1:5432/orders make serve"; exit 2; }
	@mkdir -p instance
	@test -n "$$SECRET_KEY" || test -s instance/secret_key || \
	  $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key
	@test -n "$$SECRET_ENCRYPTION_KEYS" || test -s instance/encryption_key || \
	  $(BIN)/python -c "from cryptography.fernet import Fernet; \
	    print(Fernet.generate_key().decode())" > instance/encryption_key
	ORDERS_ENV=production DATABASE_URL="$(DATABASE_URL)" PORT=$(SERVE_PORT) \
	  WEB_CONCURRENCY=$(WEB_CONCURRENCY) RATELIMIT_STORAGE_URI="$(RATELIMIT_STORAGE_URI)" \
	  SECRET_KEY="$${SECRET_KEY:-$$(cat instance/secret_key)}" \
	  SECRET_ENCRYPTION_KEYS="$${SECRET_ENCRYPTION_KEYS:-$$(cat instance/encryption_key)}" \
	  $(BIN)/gunicorn -c gunicorn.conf.py

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(VENV)/.installed-test chromium
	$(BIN)/python -m pytest

# The suite on the lowest versions pyproject.toml allows (constraints-lowest.txt), both
# databases; the browser tests are left to make test (they check pages, not library versions).
LOWEST := .venv-lowest
$(LOWEST)/.installed: pyproject.toml constraints-lowest.txt
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet -c constraints-lowest.txt -e '.[test]'
	touch $@

.PHONY: test-lowest
test-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider --ignore=tests/browser \
	  --ignore=tests/test_bench.py -m "not slow"

clean:
	rm -rf $(VENV) $(LOWEST) instance/orders.db*

# The benchmark (bench/README.md): seeds or reuses BENCH_ORDERS orders (default 1,000,000;
# minutes the first time), on SQLite unless DATABASE_URL names a PostgreSQL server.
.PHONY: bench
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

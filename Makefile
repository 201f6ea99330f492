# The two commands of the Quick start, and a few more. Each installs what it needs first.
.PHONY: up test bench bench-bus bench-import bench-identity api-docs contracts

up:  ## Run the whole system: Kafka, topics, the four services on SQLite, pilot reference data (Ctrl-C stops)
	scripts/bootstrap
	.venv/bin/simpul up

test:  ## Quality gates and the whole test suite against a real Kafka and PostgreSQL
	scripts/test

bench: bench-bus bench-import bench-identity  ## Every benchmark (figures, not pass/fail tests)

bench-bus:  ## Event bus: raw aiokafka against outbox -> relay -> inbox consumer
	scripts/bootstrap
	.venv/bin/python bench/bus.py

bench-import:  ## Survey import: rows per second into PostgreSQL with events in the outbox
	scripts/bootstrap
	.venv/bin/python bench/registry_import.py

bench-identity:  ## Identity matching against Splink 5 on DuckDB (installs Splink in its own venv), real-time index
	scripts/bootstrap
	.venv/bin/python bench/identity.py --realtime

api-docs:  ## Regenerate the committed AsyncAPI and OpenAPI documents
	.venv/bin/simpul api-docs

contracts:  ## Regenerate JSON Schema snapshots and the contracts README table
	.venv/bin/simpul contracts generate

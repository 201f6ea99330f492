# The two commands of the Quick start, and a few more. Each installs what it needs first.
.PHONY: up test bench api-docs contracts

up:  ## Run the whole system: Kafka, topics, the four services on SQLite, pilot reference data (Ctrl-C stops)
	scripts/bootstrap
	.venv/bin/simpul up

test:  ## Quality gates and the whole test suite against a real Kafka and PostgreSQL
	scripts/test

bench:  ## Benchmarks (figures, not pass/fail tests)
	scripts/bootstrap
	.venv/bin/python bench/bus.py

api-docs:  ## Regenerate the committed AsyncAPI and OpenAPI documents
	.venv/bin/simpul api-docs

contracts:  ## Regenerate JSON Schema snapshots and the contracts README table
	.venv/bin/simpul contracts generate

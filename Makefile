# The two commands a fresh machine needs (see README.md):
#   make dev    set up and run the router locally, with Postgres, the Supabase stand-ins and demo tenants
#   make test   set up and run every test
.PHONY: dev test setup build bench deploy

dev:
	bash scripts/setup.sh
	bash scripts/dev.sh

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

build:
	bash scripts/build-worker.sh

bench:
	bash scripts/setup.sh
	bash scripts/build-worker.sh
	node bench/worker/run.mjs
	bash bench/sql/run.sh

deploy:
	npx wrangler deploy

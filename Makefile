# The two commands a fresh machine needs (see README.md):
#   make dev    set up and run the router locally, with Postgres, the Supabase stand-ins and demo tenants
#   make test   set up and run every test
.PHONY: dev test setup build bench profile deploy load fuzz

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

# Where the router's time goes in workerd: a build that keeps function names (build-profile/),
# then V8's sampling profiler over one benchmark scenario (PROFILE_SCENARIO, see the script).
profile:
	bash scripts/setup.sh
	bash scripts/build-worker.sh --profile profiling --no-opt --out-dir build-profile
	node --experimental-websocket bench/worker/profile.mjs

deploy:
	npx wrangler deploy

# Issue 16's long runs, not part of `make test`: the bounded load run (every answer's tenant and
# status checked, beside a pass-through Worker) and the fuzzers (FUZZ_RUNS executions per target).
load:
	bash scripts/build-worker.sh
	node bench/load/run.mjs

fuzz:
	bash scripts/fuzz.sh $(or $(FUZZ_RUNS),1000000)

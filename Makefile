# The two commands a fresh machine needs (see README.md):
#   make dev    set up and run the router locally, with Postgres, the Supabase stand-ins and demo tenants
#   make test   set up and run every test
.PHONY: dev test setup build bench profile deploy load fuzz

# Every recipe runs with the tools setup.sh installs first on PATH (Node >= 22.12 among them).
ENV = . scripts/env.sh &&

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
	$(ENV) node bench/worker/cost.mjs
	$(ENV) node bench/worker/loop.mjs
	$(ENV) node bench/worker/plain.mjs
	$(ENV) node bench/worker/run.mjs
	bash bench/sql/run.sh

# Where the router's time goes in workerd: a build that keeps function names (build-profile/),
# then V8's sampling profiler over one benchmark scenario (PROFILE_SCENARIO, see the script).
profile:
	bash scripts/setup.sh
	bash scripts/build-worker.sh --profile profiling --no-opt --out-dir build-profile
	$(ENV) node --experimental-websocket bench/worker/profile.mjs

# What CI does on main (README, Deploy), from this machine: build and gate the bundle, then
# expand migrations, the bundle, contract migrations. Needs `supabase link` and the Cloudflare token.
deploy:
	bash scripts/bundle.sh
	bash scripts/deploy.sh

# Issue 16's long runs, not part of `make test`: the bounded load run (every answer's tenant and
# status checked, beside a pass-through Worker) and the fuzzers (FUZZ_RUNS executions per target).
load:
	bash scripts/setup.sh
	bash scripts/build-worker.sh
	$(ENV) node bench/load/run.mjs

fuzz:
	bash scripts/fuzz.sh $(or $(FUZZ_RUNS),1000000)

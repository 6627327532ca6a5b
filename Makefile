# The few commands a person types. Everything else is `drafarm --help`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.drafarm-installed
PYTEST_WORKERS ?= auto
K8S_VERSION ?=

export K8S_VERSION

.PHONY: host-packages protos setup lint test unit conformance cluster-up cluster-down bench bench-scale clean scenarios matrix soak

setup: host-packages $(STAMP) protos

# gRPC stubs from fakedevices/proto/*.proto (regenerated only when a .proto changed).
protos: $(STAMP)
	@$(BIN)/python -m fakedevices.proto.generate

# Debian packages a local cluster needs (runc, iptables, catatonit, ...): root only, idempotent.
host-packages:
	@bash clusters/host/install-debian-packages.sh

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing drafarm with its dev tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e" tests

# The project's own tests, plus the smoke slice of the suites, on the shared local cluster, and the kind slice
# (long tests start first; an idle worker takes queued tests from a busy one).
test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal tests suites -m "(not suite or smoke) and not scenario_heavy" \
		--drafarm-report-dir reports/test

# The suites against the default cluster and farm (or any driver: PROFILE=my-profile.yaml
# KUBECONFIG_UNDER_TEST=~/.kube/config FARM=none); reports land in $(REPORT_DIR).
#   SUITES=conformance            only these suites (space-separated: conformance allocation sharing health)
#   NODE_CDI_DIRS=/etc/cdi,/var/run/cdi   the node's CDI directories as this host reads them (CDI checks)
#   DRIVER_LOG=/var/log/my-driver.log     the driver's log: its tail goes into every failure's diagnostics
#   IMAGE=registry/busybox:1.36   the image the suites' pods run (default: the profile's, else drafarm's)
#   PROVIDER=local                the cluster provider (when no KUBECONFIG_UNDER_TEST is given): kind (the
#                                 default, with the seven-node `mixed` farm) or local (one node, `small`)
#   NODES=3                       at most this many of the farm's nodes (kind: workers); default all of them
PROFILE ?= drafarm
PROVIDER ?= kind
FARM ?= $(if $(filter local,$(PROVIDER)),small,mixed)
SUITES ?=
NODE_CDI_DIRS ?=
DRIVER_LOG ?=
IMAGE ?=
REPORT_DIR ?= reports/conformance
CONFORMANCE_WORKERS ?= 2
SUITE_PATHS := $(if $(strip $(SUITES)),$(addprefix suites/,$(SUITES)),suites)
conformance: setup
	$(BIN)/pytest -n $(CONFORMANCE_WORKERS) $(SUITE_PATHS) --drafarm-profile $(PROFILE) --drafarm-farm $(FARM) \
		--drafarm-cluster $(PROVIDER) --drafarm-report-dir $(REPORT_DIR) $(if $(KEEP_CLUSTER),--drafarm-keep-cluster) \
		$(if $(NODES),--drafarm-nodes $(NODES)) \
		$(if $(KUBECONFIG_UNDER_TEST),--drafarm-kubeconfig $(KUBECONFIG_UNDER_TEST)) \
		$(if $(NODE_CDI_DIRS),--drafarm-node-cdi-dir $(NODE_CDI_DIRS)) \
		$(if $(DRIVER_LOG),--drafarm-driver-log $(DRIVER_LOG)) $(if $(IMAGE),--drafarm-image $(IMAGE))

# The suites RUNS times against one cluster (held for the whole soak): per test the runs it failed, and a
# flaky column, in reports/soak/soak.html and soak.json; each run's report and output beside them.
# The local cluster with `small` unless PROVIDER (and FARM) are given.
RUNS ?= 20
given = $(filter command line environment,$(origin $(1)))
SOAK_PROVIDER := $(if $(call given,PROVIDER),$(PROVIDER),local)
SOAK_FARM := $(if $(call given,FARM),$(FARM),$(if $(filter local,$(SOAK_PROVIDER)),small,mixed))
soak: setup
	$(BIN)/drafarm soak --runs $(RUNS) --provider $(SOAK_PROVIDER) --report-dir reports/soak -- \
		-n $(CONFORMANCE_WORKERS) $(SUITE_PATHS) --drafarm-profile $(PROFILE) --drafarm-farm $(SOAK_FARM)

clean:
	rm -rf $(VENV) build *.egg-info

# A cluster of $(K8S_VERSION) (default: newest pinned) from $(PROVIDER) (local, or kind: DRAFARM_KIND_NODES
# workers); builds the toolchain (and for kind the node image) on first use.
cluster-up: setup
	$(BIN)/drafarm cluster up --provider $(PROVIDER)

cluster-down: setup
	$(BIN)/drafarm cluster down --provider $(PROVIDER)

# Benchmarks (results under results/; a missed target is reported, not a failed make):
# cluster up/down; plugin prepare latency, throughput and RSS; `farm show large`; suite wall time
# with -n 1 and -n 2 and pod-with-claim to Running; BENCH_KIND=1 adds the kind provider (node image, up, down).
bench: setup
	-$(BIN)/python -m clusters.bench
	-$(BIN)/python -m benchmarks
	-$(BIN)/python -m benchmarks.plugin_real_bench
	-$(BIN)/python -m benchmarks.suite_bench
	-$(if $(BENCH_KIND),$(BIN)/python -m benchmarks.kind_bench,@echo "kind benchmark skipped (BENCH_KIND=1 runs it)")

# DRA scheduling at scale: the `large` farm with 499 virtual nodes on the shared local cluster (template,
# steady state with churn, CEL on capacity); results/bench-scale.json. A missed target is reported, not a failed make.
bench-scale: setup
	-$(BIN)/python -m benchmarks.scale_bench

# The shipped scenarios on the versions around each fix (SCENARIO_VERSIONS=all: every version their
# `expect` names), grouped by version; results and logs in reports/scenarios. One local cluster per
# host: run it alone (a free cluster of another version is taken down and brought back afterwards).
SCENARIO_FILES ?= $(wildcard scenarios/*.yaml)
SCENARIO_VERSIONS ?= pair
scenarios: setup
	$(BIN)/pytest -n 2 tests/scenario -m scenario_heavy --drafarm-report-dir reports/scenario-tests
	$(BIN)/drafarm scenario run $(SCENARIO_FILES) --expected-versions $(SCENARIO_VERSIONS) --replace \
		--record reports/scenarios

# A suite slice on several versions, one report with a version column (reports/matrix/matrix.html):
#   make matrix VERSIONS="1.34.4 1.37.2" MARK=smoke SUITES=allocation
VERSIONS ?= 1.34.4 1.37.2
MARK ?= smoke
matrix: setup
	$(BIN)/drafarm matrix $(SUITE_PATHS) $(addprefix --k8s-version ,$(VERSIONS)) -m "$(MARK)" --replace \
		--report-dir reports/matrix

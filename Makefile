# seed.fleet — the two commands: `make lab` and `make test`. Everything else helps them.
SHELL := /bin/bash
PYTHON ?= python3
# .venv: the lab, lint, checks and every Molecule scenario, on the NEWEST ansible-core
# (requirements/controller.txt; Python >= 3.12, found by tests/lib/newest-python.sh).
# .cache/venv-oldest: the OLDEST supported core (requirements/oldest.txt) on $(PYTHON), for
# sanity and unit tests only. docs/ansible-cores.md says which core runs on which Python.
VENV := .venv
BIN := $(VENV)/bin
VENV_OLDEST := .cache/venv-oldest
COLLECTION_LINK := .cache/collections/ansible_collections/seed/fleet
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The machine's PATH, before .venv/bin goes first: the oldest core's venv is made with its python3.
MACHINE_PATH := $(PATH)
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Debian suites: the scenarios `make test` runs (SUITES; both: tests/run_all.py runs the
# multi-host scenarios once on a mixed fleet), and the one suite of the lab
# and of `make molecule` (SUITE: Debian 13 trixie by default, SUITE=bookworm for Debian 12).
# Each target builds the images of its own suites only; `make images` builds both sets.
SUITES ?= bookworm trixie
SUITE ?= trixie
# `make lab SSH=1`: the lab's site run (and later lab commands) over SSH as the admin, sudo.
SSH ?= 0
export SEED_FLEET_SUITE := $(SUITE)

.PHONY: help venv venv-oldest deps docker images images-suites images-suite lab lab-down lab-deploy lab-rollback test lint sanity units checks molecule build ee-context ee clean

help:
	@echo "make lab        build images, start lb1/app1/app2/mon1 and run playbooks/site.yml (Debian 13; SUITE=bookworm for 12)"
	@echo "make lab SSH=1  the same lab reached over SSH as its admin (sudo, host key checking on)"
	@echo "make lab-down   remove the lab containers, network and state"
	@echo "make test       yamllint, ansible-lint, sanity + units (newest and oldest core), checks, every Molecule scenario"
	@echo "make molecule SCENARIO=name [SUITE=trixie]   one scenario on one Debian suite"
	@echo "SUITES=\"bookworm trixie\" make test   the scenarios on each suite (default: $(SUITES))"

# Debian packages the tooling needs on the machine that runs it (root, Debian family).
deps:
	@bash lab/images/host-deps.sh

$(BIN)/.stamp: requirements/controller.txt requirements/constraints.txt tests/lib/newest-python.sh tests/lib/vendor_collection.py
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  py=$$(bash tests/lib/newest-python.sh) || exit 1; \
	  rm -rf $(VENV); echo "[venv] $(VENV) on $$py ($$($$py -V 2>&1))"; $$py -m venv $(VENV); fi
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/controller.txt -c requirements/constraints.txt
	@# ansible 14 no longer carries awx.awx (playbooks/awx_configure.yml): take it from ansible 12.3.0's wheel.
	@$(BIN)/python tests/lib/vendor_collection.py awx.awx ansible==12.3.0
	@touch $@

$(VENV_OLDEST)/.stamp: requirements/oldest.txt
	@test -x $(VENV_OLDEST)/bin/python || PATH="$(MACHINE_PATH)" $(PYTHON) -m venv $(VENV_OLDEST)
	@echo "[venv] $(VENV_OLDEST) on $$($(VENV_OLDEST)/bin/python -V)"
	$(VENV_OLDEST)/bin/python -m pip install -q --disable-pip-version-check -r requirements/oldest.txt
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@

venv: $(BIN)/.stamp $(COLLECTION_LINK)

venv-oldest: $(VENV_OLDEST)/.stamp $(COLLECTION_LINK)

docker: deps
	@bash lab/images/ensure-docker.sh

images: docker
	@$(PYTHON) lab/images/build.py $(addprefix --suite ,$(sort $(SUITES) $(SUITE)))

images-suites: docker
	@$(PYTHON) lab/images/build.py $(addprefix --suite ,$(SUITES))

images-suite: docker
	@$(PYTHON) lab/images/build.py --suite $(SUITE)

lab: venv images-suite
	@SSH=$(SSH) bash lab/lab.sh up

lab-down: venv
	@bash lab/lab.sh down

lab-deploy: venv
	@bash lab/lab.sh deploy $(VERSION) $(APP)

lab-rollback: venv
	@bash lab/lab.sh rollback $(APP)

test: venv venv-oldest images-suites
	@SEED_FLEET_SUITES="$(SUITES)" SEED_FLEET_SUITE="$(firstword $(SUITES))" $(BIN)/python tests/run_all.py

lint: venv
	@STAGES=yamllint,ansible-lint $(BIN)/python tests/run_all.py

# ansible-test sanity and the unit tests on the newest and the oldest supported core.
sanity: venv venv-oldest
	@STAGES=sanity $(BIN)/python tests/run_all.py

units: venv venv-oldest
	@STAGES=units $(BIN)/python tests/run_all.py

checks: venv venv-oldest
	@STAGES=check $(BIN)/python tests/run_all.py

ee-context: venv
	@$(BIN)/ansible-builder create -f execution-environment.yml -c .cache/ee-context

ee: venv docker
	@$(PYTHON) lab/images/build.py --suite bookworm debian
	@bash tools/ee_local_build.sh $(EE_TAG)

molecule: venv images-suite
	@STAGES=molecule SCENARIOS=$(SCENARIO) SEED_FLEET_SUITES="$(SUITE)" $(BIN)/python tests/run_all.py

build: venv
	@$(BIN)/ansible-galaxy collection build --force --output-path .cache/dist .

clean: lab-down
	rm -rf .cache

# Role READMEs' variable tables from meta/argument_specs.yml (tests/checks/test_role_docs.py checks them).
.PHONY: docs
docs: venv
	@$(BIN)/python tools/render_role_docs.py

# seed.fleet — the two commands: `make lab` and `make test`. Everything else helps them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COLLECTION_LINK := .cache/collections/ansible_collections/seed/fleet
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv deps docker images lab lab-down lab-deploy lab-rollback test lint sanity units checks molecule build ee-context ee clean

help:
	@echo "make lab        build images, start lb1/app1/app2/mon1 and run playbooks/site.yml"
	@echo "make lab-down   remove the lab containers, network and state"
	@echo "make test       yamllint, ansible-lint, sanity, unit tests, every Molecule scenario"
	@echo "make molecule SCENARIO=name   one scenario"

# Debian packages the tooling needs on the machine that runs it (root, Debian family).
deps:
	@bash tests/images/host-deps.sh

$(BIN)/.stamp: requirements/controller.txt requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/controller.txt -c requirements/constraints.txt
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@

venv: $(BIN)/.stamp $(COLLECTION_LINK)

docker: deps
	@bash tests/images/ensure-docker.sh

images: docker
	@$(PYTHON) tests/images/build.py

lab: venv images
	@bash tests/lab/lab.sh up

lab-down: venv
	@bash tests/lab/lab.sh down

lab-deploy: venv
	@bash tests/lab/lab.sh deploy $(VERSION)

lab-rollback: venv
	@bash tests/lab/lab.sh rollback

test: venv images
	@$(BIN)/python tests/run_all.py

lint: venv
	@STAGES=yamllint,ansible-lint $(BIN)/python tests/run_all.py

sanity: venv
	@bash tests/sanity/run.sh

units: venv
	@STAGES=units $(BIN)/python tests/run_all.py

checks: venv
	@STAGES=check $(BIN)/python tests/run_all.py

ee-context: venv
	@$(BIN)/ansible-builder create -f execution-environment.yml -c .cache/ee-context

ee: venv images
	@bash tests/checks/ee_local_build.sh $(EE_TAG)

molecule: venv images
	@STAGES=molecule SCENARIOS=$(SCENARIO) $(BIN)/python tests/run_all.py

build: venv
	@$(BIN)/ansible-galaxy collection build --force --output-path .cache/dist .

clean: lab-down
	rm -rf .cache

# Role READMEs' variable tables from meta/argument_specs.yml (tests/checks/test_role_docs.py checks them).
.PHONY: docs
docs: venv
	@$(BIN)/python tools/render_role_docs.py

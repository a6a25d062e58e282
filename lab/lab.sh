#!/usr/bin/env bash
# The lab's entry points, called by `make lab`, `make lab-down`, `make lab-deploy`
# and `make lab-rollback`. Assumes the venv is built and on PATH (the Makefile does it).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1}
INV=inventories/lab

summary() {
  echo
  echo "==== seed.fleet lab: what runs where ===="
  docker ps --filter name=seed-lab- --format '  {{.Names}}\t{{.Status}}\t{{.Ports}}'
  cat <<'TXT'
  app (via HAProxy)   http://127.0.0.1:8080/          curl -s http://127.0.0.1:8080/
  HAProxy stats       http://127.0.0.1:8404/stats     (user admin, password: inventories/lab/group_vars/lb.yml)
  HAProxy metrics     http://127.0.0.1:8405/metrics
  Prometheus          https://127.0.0.1:9090/targets  (lab CA; user prometheus, password below)
  Alertmanager        https://127.0.0.1:9093/
  Blackbox exporter   http://127.0.0.1:9115/
  Central logs        docker exec seed-lab-mon1 journalctl -D /var/log/journal/remote -f
  Deploy / roll back  make lab-deploy VERSION=v2   |   make lab-rollback
TXT
  echo "  monitoring password: docker exec seed-lab-mon1 cat /etc/prometheus/web/prometheus.password"
  printf '  live now: %s\n' "$(curl -s -m 3 http://127.0.0.1:8080/ || echo 'no answer on 127.0.0.1:8080')"
  echo "  ansible -i $INV all -m ping     # talk to the fleet"
  echo "  make lab-down                    # remove it all"
}

case "${1:-up}" in
  up)
    ansible-playbook lab/up.yml
    ansible-playbook -i "$INV" playbooks/site.yml
    summary
    ;;
  down)
    ansible-playbook lab/down.yml
    rm -rf .lab
    ;;
  deploy)
    [[ -n ${2:-} ]] || { echo "usage: make lab-deploy VERSION=v2" >&2; exit 2; }
    ansible-playbook -i "$INV" playbooks/deploy.yml -e "blue_green_version=$2"
    ;;
  rollback)
    ansible-playbook -i "$INV" playbooks/rollback.yml
    ;;
  *)
    echo "usage: lab.sh up|down|deploy VERSION|rollback" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The lab's entry points, called by `make lab`, `make lab-down`, `make lab-deploy`
# and `make lab-rollback`. Assumes the venv is built and on PATH (the Makefile does it).
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1}
INV=inventories/lab
# `make lab SSH=1`: the same fleet reached over SSH as its admin with sudo; lab/ssh.yml
# writes the overlay inventory. Every later lab command uses it, host key checking on.
SSH_OVERLAY=.lab/ssh/inventory
INVENTORY=(-i "$INV")
over_ssh() {
  [[ -f $SSH_OVERLAY/hosts.yml ]] || return 1
  INVENTORY=(-i "$INV" -i "$SSH_OVERLAY")
  export ANSIBLE_HOST_KEY_CHECKING=True
}
over_ssh || true

summary() {
  echo
  echo "==== seed.fleet lab: what runs where ===="
  docker ps --filter name=seed-lab- --format '  {{.Names}}\t{{.Status}}\t{{.Ports}}'
  cat <<'TXT'
  demo (via HAProxy)  http://127.0.0.1:8080/          curl -s http://127.0.0.1:8080/
  demo over HTTPS     https://127.0.0.1:8443/         curl -s --cacert .lab/tls/ca.crt --resolve lab.test:8443:127.0.0.1 https://lab.test:8443/
  api over HTTPS      (Host/SNI api.lab.test)         curl -s --cacert .lab/tls/ca.crt --resolve api.lab.test:8443:127.0.0.1 https://api.lab.test:8443/
  the same on lb2     http://127.0.0.1:8180/  https://127.0.0.1:8543/   (the LB pair: every deploy switches both)
  HAProxy stats       http://127.0.0.1:8404/stats     (user admin, password: inventories/lab/group_vars/lb.yml)
  HAProxy metrics     http://127.0.0.1:8405/metrics
  Prometheus          https://127.0.0.1:9090/targets  (lab CA; user prometheus, password below)
  Alertmanager        https://127.0.0.1:9093/
  Blackbox exporter   http://127.0.0.1:9115/
  Central logs        docker exec seed-lab-mon1 journalctl -D /var/log/journal/remote -f
  Deploy / roll back  make lab-deploy VERSION=v2 [APP=api]   |   make lab-rollback [APP=api]
TXT
  echo "  monitoring password: docker exec seed-lab-mon1 cat /etc/prometheus/web/prometheus.password"
  printf '  live now: %s\n' "$(curl -s -m 3 http://127.0.0.1:8080/ || echo 'no answer on 127.0.0.1:8080')"
  printf '  api now:  %s\n' "$(curl -s -m 3 --cacert .lab/tls/ca.crt --resolve api.lab.test:8443:127.0.0.1 \
    https://api.lab.test:8443/ || echo 'no answer on https://api.lab.test:8443 (127.0.0.1)')"
  printf '  lb2 now:  %s\n' "$(curl -s -m 3 http://127.0.0.1:8180/ || echo 'no answer on 127.0.0.1:8180')"
  if over_ssh; then
    echo "  ansible -i $INV -i $SSH_OVERLAY all -m ping   # talk to the fleet (SSH as fleetadmin, sudo)"
  else
    echo "  ansible -i $INV all -m ping     # talk to the fleet (docker connection; make lab SSH=1: over SSH)"
  fi
  echo "  make lab-down                    # remove it all"
}

case "${1:-up}" in
  up)
    ansible-playbook lab/up.yml
    if [[ ${SSH:-0} == 1 ]]; then
      ansible-playbook -i "$INV" lab/ssh.yml
      over_ssh
    fi
    ansible-playbook "${INVENTORY[@]}" playbooks/site.yml
    summary
    ;;
  down)
    ansible-playbook lab/down.yml
    rm -rf .lab
    ;;
  deploy)
    [[ -n ${2:-} ]] || { echo "usage: make lab-deploy VERSION=v2 [APP=api]" >&2; exit 2; }
    ansible-playbook "${INVENTORY[@]}" playbooks/deploy.yml -e "blue_green_version=$2" -e "blue_green_app=${3:-demo}"
    ;;
  rollback)
    ansible-playbook "${INVENTORY[@]}" playbooks/rollback.yml -e "blue_green_app=${2:-demo}"
    ;;
  *)
    echo "usage: lab.sh up|down|deploy VERSION [APP]|rollback [APP]" >&2; exit 2 ;;
esac

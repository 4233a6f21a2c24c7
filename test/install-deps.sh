#!/usr/bin/env bash
# Installs the real programs the tests start (Debian 12 packages). Needs root (or sudo).
# Tests never skip when one is missing: they fail with a message naming the package.
set -euo pipefail
PKGS=(etcd-server etcd-client zookeeperd python3-kazoo haproxy keepalived patroni postgresql postgresql-client iproute2 openssl curl procps psmisc util-linux)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages start no service we rely on; make sure none holds the default ports.
for svc in etcd zookeeper haproxy keepalived patroni postgresql; do
  $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
done
echo "test dependencies present: ${PKGS[*]}"

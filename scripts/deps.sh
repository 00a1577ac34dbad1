#!/usr/bin/env bash
# Installs what vtdirect's tests, demo and benchmarks need on a Debian/Ubuntu machine:
# MariaDB 10.11 (server and client) and sysbench. As root it installs them with apt-get;
# otherwise it names the packages to install and fails.
set -euo pipefail
need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
if [ "${VTDIRECT_NEED_SYSBENCH:-0}" = 1 ]; then
  command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "vtdirect needs the Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
echo "installed ${need[*]}"

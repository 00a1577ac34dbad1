#!/usr/bin/env bash
# Installs what vtdirect's tests, demo and benchmarks need on a Debian/Ubuntu machine:
# MariaDB 10.11 (server and client), and on request sysbench (VTDIRECT_NEED_SYSBENCH=1, for
# make bench) and the client drivers of the driver matrix (VTDIRECT_NEED_DRIVERS=1, for
# make test: MariaDB Connector/J and a JDK, PyMySQL, mysqlclient, SQLAlchemy, PHP's PDO and
# mysqli, Perl's DBD::MariaDB, node and npm). As root it installs what is missing with
# apt-get (one apt-get update first); otherwise it names the packages to install and fails.
set -euo pipefail
need=()
# pkg NAME: a Debian package the machine needs, if it is not installed.
pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || need+=("$1"); }
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
if [ "${VTDIRECT_NEED_SYSBENCH:-0}" = 1 ]; then
  command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
fi
if [ "${VTDIRECT_NEED_DRIVERS:-0}" = 1 ]; then
  for p in libmariadb-java python3-pymysql python3-mysqldb python3-sqlalchemy php-cli php-mysql libdbd-mariadb-perl; do
    pkg "$p"
  done
  command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "vtdirect needs the Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} (apt-get)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
echo "installed ${need[*]}"

#!/usr/bin/env bash
# Stock Django 4.2 for the tests: Debian 13's python3-django, unpacked into one
# folder that the tests put on PYTHONPATH, next to (not over) the system's.
#
# Why: the tests must meet Django's CSRF Origin check as reviewers' apps do, and
# that check is Django >= 4.0; Debian 12's python3-django is 3.2, which ignores
# Origin on plain http. The package is pure Python ("Architecture: all") and
# its dependencies (python3-asgiref, python3-sqlparse) are Debian 12's own, which
# python3-django 3.2 already pulls in. Nothing is installed system-wide: other
# users of Debian's Django on this machine keep 3.2.
#
# Usage: scripts/debian-django4.sh [DEST]   (default /opt/wingman-test/django-4.2;
# the tests read WINGMAN_DJANGO4_DIR, same default). Idempotent; run as root.
set -euo pipefail

dest="${1:-${WINGMAN_DJANGO4_DIR:-/opt/wingman-test/django-4.2}}"
has_django4() { PYTHONPATH="${dest}" /usr/bin/python3 -c 'import sys, django; sys.exit(0 if django.VERSION >= (4,) else 1)' 2>/dev/null; }

if has_django4; then
  echo "[django4] present in ${dest}"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
mkdir -p "${work}/lists/partial" "${work}/cache/archives/partial"
# The Debian mirror this machine already uses, with the next release's suite.
mirror="$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)"
if [[ -z "${mirror}" ]]; then
  mirror="$(sed -n 's/^deb[[:space:]]\+\([^[:space:]]*\/debian\)[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)"
fi
if [[ -z "${mirror}" ]]; then
  echo "[django4] no Debian mirror found in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi
echo "deb ${mirror} trixie main" > "${work}/sources.list"
apt_opts=(
  -o "Dir::State::Lists=${work}/lists"
  -o "Dir::Etc::SourceList=${work}/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::Cache=${work}/cache"
  -o "APT::Sandbox::User=root"
  -o "Acquire::Retries=3"
)
apt-get "${apt_opts[@]}" -q update </dev/null
(cd "${work}" && apt-get "${apt_opts[@]}" -q download python3-django </dev/null)
dpkg-deb -x "${work}"/python3-django_*.deb "${work}/root"

rm -rf "${dest}"
mkdir -p "$(dirname "${dest}")"
mv "${work}/root/usr/lib/python3/dist-packages" "${dest}"
has_django4
echo "[django4] $(PYTHONPATH="${dest}" /usr/bin/python3 -c 'import django; print(django.get_version())') in ${dest}"

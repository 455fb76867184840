#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium) and need a Japanese font to render the
# pages. Installs both when missing and running as root; otherwise says what is missing (the browser
# tests are then skipped, and say so).
set -uo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} for the browser tests (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null; } \
    || echo "Could not install ${missing[*]}: the browser tests will be skipped"
else
  echo "Missing ${missing[*]} (install them as root, e.g. apt-get install ${missing[*]}): the browser tests will be skipped"
fi

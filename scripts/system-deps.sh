#!/usr/bin/env bash
# System packages the tests need, installed from Debian's archive when missing:
# PostgreSQL (the ops database's production engine), Chromium (browser tests, driven by
# Playwright through its executable path) with CJK fonts for the Chinese pages, and
# bcftools and tabix (htslib), which a test reads and indexes the synthetic VCF with.
# The validation references (R survival/pROC/snpStats, PLINK 2) are stored beside the
# scripts that made them in tests/validation/reference; the tests do not run R or PLINK.
# The test suite starts its own PostgreSQL server; nothing here is left running.
set -euo pipefail
packages=(postgresql chromium fonts-noto-cjk bcftools tabix)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  # another apt or dpkg (unattended upgrades, a second make) may hold the lock: wait for
  # it, up to 10 minutes, instead of failing at once
  wait_lock=(-o DPkg::Lock::Timeout=600)
  $SUDO apt-get "${wait_lock[@]}" update -q >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${wait_lock[@]}" install -y -q \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
command -v chromium >/dev/null
command -v bcftools >/dev/null
command -v tabix >/dev/null

#!/usr/bin/env bash
# System tools some tests use, installed only if missing (CI runs this as root):
#   iproute2 + util-linux  network namespaces (the mDNS test, the fault harness)
#   nftables               partitions and packet loss inside the fault harness's namespaces
#   faketime               libfaketime, per-process clock skew for the fault harness
#   chromium               the console's browser test (driven by playwright-core, which never downloads a browser)
#   systemd                systemd-analyze, which checks deploy/chorus.service (test/deploy/systemd-unit.test.ts)
#   openssl                a throwaway CA and server certificate for the RPC TLS tests
# apt-get update runs once, and only when something is missing.
set -euo pipefail
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v nft >/dev/null 2>&1 || need+=(nftables)
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || need+=(faketime)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing ${need[*]} and not root; the namespace tests, the console test, the systemd unit test, the TLS tests and npm run faults will fail" >&2
    exit 0
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

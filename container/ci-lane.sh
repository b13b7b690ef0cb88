#!/usr/bin/env bash
# CI lane: the isolation suite on docker and podman as well as bwrap. Installs
# the runtimes from Debian, starts dockerd without a bridge or iptables (the
# sandboxes use --network none), builds the agent image from a local Debian root
# filesystem (no registry is reachable) and runs test/isolation. Bounded: every
# wait has a limit, and a daemon that does not come up fails the lane with its log.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
step() { echo "==> [isolation lane] $*"; }
fail() { echo "isolation lane: $*" >&2; exit 1; }
START=$(date +%s)

step "installing docker.io, podman, runc, debootstrap"
$SUDO apt-get install -y -qq --no-install-recommends docker.io podman runc catatonit debootstrap curl ca-certificates >/dev/null \
  || fail "could not install the container runtimes from Debian's packages."

if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  step "starting dockerd (--bridge=none --iptables=false)"
  $SUDO sh -c 'nohup dockerd --bridge=none --iptables=false >/tmp/nanoclaw-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    tail -n 30 /tmp/nanoclaw-dockerd.log >&2 || true
    fail "dockerd did not answer within 60 s on this machine (log above); the docker lane cannot run here."
  fi
fi

export NANOCLAW_TEST_IMAGE="nanoclaw-agent-test:local"
step "building $NANOCLAW_TEST_IMAGE from a Debian bookworm root filesystem"
$SUDO timeout 900 bash container/build-local-rootfs.sh --runtime both --tag "$NANOCLAW_TEST_IMAGE" \
  || fail "the local image build failed or took over 15 minutes."

step "running test/isolation on bwrap, docker and podman"
NANOCLAW_TEST_RUNTIMES=bwrap,docker,podman timeout 1200 npx vitest run test/isolation

step "done in $(( $(date +%s) - START )) s"

#!/usr/bin/env bash
# Builds the agent image from container/Dockerfile (needs a registry for the
# node:22-slim base and npm packages). Without a registry, use
# container/build-local-rootfs.sh.
#
#   container/build.sh [docker|podman|apple] [--tag NAME] [--home DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec node dist/src/sandbox/image-cli.js "$@"

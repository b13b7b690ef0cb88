#!/usr/bin/env bash
# Builds the agent image without a registry: a Debian bookworm root filesystem
# from the Debian mirror this machine already uses (debootstrap), this host's
# node binary, and the prebuilt runner. For tests and CI, and for machines that
# reach Debian's mirror but no container registry. Imports it into docker and/or
# podman under the same per-install tag `nanoclaw image build` uses.
#
#   container/build-local-rootfs.sh [--runtime docker|podman|both] [--tag NAME] [--home DIR]
#
# The root filesystem is kept under data/image-rootfs (or $NANOCLAW_ROOTFS_CACHE)
# and reused while its package list is unchanged; only Debian packages are cached.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

RUNTIMES="docker"
TAG=""
HOME_DIR="${NANOCLAW_HOME:-$PWD}"
WITH_APP=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) RUNTIMES="$2"; shift 2 ;;
    --tag) TAG="$2"; shift 2 ;;
    --home) HOME_DIR="$2"; shift 2 ;;
    --no-app) WITH_APP=0; shift ;;
    *) echo "Unknown option $1 (use --runtime docker|podman|both, --tag NAME, --home DIR)" >&2; exit 2 ;;
  esac
done
[ "$RUNTIMES" = "both" ] && RUNTIMES="docker podman"

say() { echo "==> $*"; }
die() { echo "build-local-rootfs: $*" >&2; exit 1; }

[ "$(id -u)" = "0" ] || die "debootstrap needs root: run this with sudo."
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap."
[ -f dist/runner/index.js ] || die "the runner is not built: run npm run build first."
[ -d node_modules/@anthropic-ai/claude-agent-sdk ] || die "node_modules is missing: run npm ci first."

HOME_REAL="$(realpath -m "$HOME_DIR")"
INSTALL_ID="$(printf %s "$HOME_REAL" | sha256sum | cut -c1-12)"
[ -n "$TAG" ] || TAG="nanoclaw-agent-${INSTALL_ID}:latest"

# The mirror this machine's apt already uses (deb822 or one-line sources).
MIRROR="$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | tr -d ' ' || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

# Tools an agent reaches for in Bash, and a headless Chromium with a font for
# the agent's browser (agent-browser itself comes from node_modules, bound in at
# run time). The headless shell needs no GTK or X, so it adds far less than
# the full chromium package to the build.
PACKAGES="ca-certificates,bash,coreutils,findutils,grep,sed,gawk,procps,curl,git,python3-minimal,less,jq,ripgrep,tzdata,libstdc++6,chromium-headless-shell,fonts-liberation"
CACHE="${NANOCLAW_ROOTFS_CACHE:-$ROOT/data/image-rootfs}"
BASE="$CACHE/bookworm-minbase"
STAMP="$BASE/.nanoclaw-packages"
mkdir -p "$CACHE/debs"

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$PACKAGES" ]; then
  say "debootstrap bookworm (minbase) from $MIRROR"
  rm -rf "$BASE"
  debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$CACHE/debs" bookworm "$BASE" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)."; }
  rm -rf "$BASE/var/cache/apt/archives/"*.deb "$BASE/var/lib/apt/lists/"*
  echo "$PACKAGES" > "$STAMP"
else
  say "reusing the root filesystem in $BASE"
fi

# The tree, its tar stream and each runtime's copy need room: say so before
# a runtime fails halfway with "no space left on device".
for dir in "$CACHE" /var/tmp /var/lib; do
  free_mb=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
  [ "$free_mb" -ge 4096 ] || die "only ${free_mb} MB free on $dir; the build needs about 4 GB (try: docker image prune; podman image prune)."
done

# Assemble the image tree: base + node user + node + runner, never a secret.
WORK="$(mktemp -d "$CACHE/image.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
TREE="$WORK/rootfs"
say "assembling the image tree"
cp -a "$BASE" "$TREE"
rm -f "$TREE/.nanoclaw-packages"
grep -q '^node:' "$TREE/etc/passwd" || echo 'node:x:1000:1000:node:/home/node:/bin/bash' >> "$TREE/etc/passwd"
grep -q '^node:' "$TREE/etc/group" || echo 'node:x:1000:' >> "$TREE/etc/group"
grep -q '^node:' "$TREE/etc/shadow" 2>/dev/null || echo 'node:!:19000::::::' >> "$TREE/etc/shadow"
install -d -o 1000 -g 1000 "$TREE/home/node" "$TREE/home/node/.claude" "$TREE/workspace/group" "$TREE/workspace/global" "$TREE/workspace/extra"
install -d "$TREE/run/nanoclaw" "$TREE/app/bin" "$TREE/app/runner"
install -m 0755 "$(command -v node)" "$TREE/usr/local/bin/node"
ln -sf /usr/local/bin/node "$TREE/app/bin/node"
if [ "$WITH_APP" = 1 ]; then
  cp -a dist/runner/. "$TREE/app/runner/"
  cp package.json "$TREE/app/package.json"
  # Only what the runner loads (the SDK with its CLI, and zod; agent-browser is
  # bound in at run time) and their dependencies: all of node_modules would
  # triple the image.
  node -e '
    const fs = require("fs"), path = require("path");
    const seen = new Set(), todo = ["@anthropic-ai/claude-agent-sdk", "zod"];
    while (todo.length) {
      const name = todo.pop();
      const file = path.join("node_modules", name, "package.json");
      if (seen.has(name) || !fs.existsSync(file)) continue;
      seen.add(name);
      const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
      todo.push(...Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }));
    }
    console.log([...seen].join("\n"));
  ' | while read -r dep; do
    mkdir -p "$TREE/app/node_modules/$(dirname "$dep")"
    cp -a "node_modules/$dep" "$TREE/app/node_modules/$dep"
  done
fi
echo "nanoclaw" > "$TREE/etc/hostname"

RUNNER_HASH="$(cat dist/runner/*.js | sha256sum | cut -c1-12)"
for rt in $RUNTIMES; do
  command -v "$rt" >/dev/null || die "$rt is not installed."
  say "importing into $rt as $TAG"
  PREVIOUS="$("$rt" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  tar -C "$TREE" --numeric-owner -c . | "$rt" import \
    --change 'USER node' \
    --change 'WORKDIR /workspace/group' \
    --change 'ENV HOME=/home/node PATH=/app/bin:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8' \
    --change 'ENV AGENT_BROWSER_EXECUTABLE_PATH=/usr/lib/chromium/chromium-headless-shell' \
    --change "LABEL nanoclaw.install=$INSTALL_ID" \
    --change "LABEL nanoclaw.runner=$RUNNER_HASH" \
    --change 'CMD ["/app/bin/node", "/app/runner/index.js"]' \
    - "$TAG" >/dev/null
  # The image this tag named before would stay behind untagged, 1-2 GB per build.
  [ -z "$PREVIOUS" ] || [ "$PREVIOUS" = "$("$rt" image inspect --format '{{.Id}}' "$TAG")" ] \
    || "$rt" rmi "$PREVIOUS" >/dev/null 2>&1 || true
done
say "done: $TAG"

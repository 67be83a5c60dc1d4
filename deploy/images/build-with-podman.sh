#!/usr/bin/env bash
# Builds the server and agent images with podman from a Debian bookworm base made here by
# debootstrap: no image registry is needed (deb.debian.org and PyPI are).
#
#   deploy/images/build-with-podman.sh [TAG]     # as root; TAG defaults to "dev"
#
# Prints three lines, "base|server|agent IMAGE-ID". The base is built once and reused while
# this script is unchanged (its tag carries a digest of this file); the image builds reuse
# podman's layer cache, so a rebuild after a code change reinstalls only the package.
set -euo pipefail
cd "$(dirname "$0")/../.."
tag="${1:-dev}"

# runc and cgroupfs: crun fails on some kernels' cgroup setups, and podman's default
# open-file limit exceeds hard limits of 20,000 found on build machines.
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

base="localhost/infracast-base:bookworm-$(sha256sum "$0" | cut -c1-12)"
# One builder of the base at a time on this machine; the others wait and reuse it.
exec 9>/var/lock/infracast-base-image.lock
flock 9
if ! "${podman[@]}" image exists "$base"; then
    rootfs="$(mktemp -d /var/tmp/infracast-base.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    # python-is-python3: the Dockerfiles call `python`, as in the python:*-slim images.
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python-is-python3,ca-certificates \
        bookworm "$rootfs" http://deb.debian.org/debian >&2
    # The package lists and downloaded .debs are half of the rootfs; apt-get update in the
    # Dockerfiles fetches fresh lists anyway.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . | "${podman[@]}" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' - "$base" >/dev/null
fi
flock -u 9
echo "base $("${podman[@]}" image inspect --format '{{.Id}}' "$base")"

# RUN steps see the build machine's CA bundle (read-only, not kept in the images), so pip
# reaches PyPI through a TLS-intercepting proxy that the machine trusts; Debian's pip reads
# this path.
trust=()
[ -f /etc/ssl/certs/ca-certificates.crt ] \
    && trust=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)

for role in server agent; do
    # --format docker keeps HEALTHCHECK (the OCI image format has no such field).
    "${podman[@]}" build --format docker --network host "${limits[@]}" "${trust[@]}" \
        --build-arg "BASE_IMAGE=$base" -f "Dockerfile.$role" \
        -t "localhost/infracast-$role:$tag" . >&2
    echo "$role $("${podman[@]}" image inspect --format '{{.Id}}' "localhost/infracast-$role:$tag")"
done

#!/usr/bin/env bash
# A Debian bookworm image with Python made by debootstrap, imported into podman: the base
# the Dockerfiles build on (BASE_IMAGE) where image registries are out of reach.
#
#   deploy/images/base-image.sh       # as root; prints the image's name
#
# Built once and reused while this file is unchanged: the tag carries a digest of it.
set -euo pipefail
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
base="localhost/infracast-base:bookworm-$(sha256sum "$0" | cut -c1-12)"

# One builder at a time on this machine; the others wait and reuse its image.
exec 9>/var/lock/infracast-base-image.lock
flock 9
if ! "${podman[@]}" image exists "$base"; then
    rootfs="$(mktemp -d /var/tmp/infracast-base.XXXXXX)"
    trap 'rm -rf "$rootfs"' EXIT
    # python3-venv: the build stage makes a virtual environment (its pip reads the system CA
    # bundle, a Debian patch); python-is-python3: the Dockerfiles call `python`, as in the
    # python:*-slim images.
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python-is-python3,ca-certificates \
        bookworm "$rootfs" http://deb.debian.org/debian >&2
    # Package lists, apt's binary caches and downloaded .debs are a third of the tree; the
    # Dockerfiles' apt-get update fetches fresh lists. As in Debian's own images, apt keeps
    # no binary caches or .debs in image layers either (80 MB a layer otherwise).
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb
    cat > "$rootfs"/etc/apt/apt.conf.d/docker-clean <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
    tar -C "$rootfs" -c . | "${podman[@]}" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' - "$base" >/dev/null
fi
echo "$base"

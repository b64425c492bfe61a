#!/usr/bin/env bash
# Prints the path of a cached Debian 12 root filesystem tarball (minbase with systemd),
# made with debootstrap on first use: target/appliance-rootfs/bookworm-<hash>.tar.
# The hash covers the package list, so changing it makes a new cache.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=systemd,systemd-sysv,dbus,curl
cache_dir=target/appliance-rootfs
tarball=$cache_dir/bookworm-$(echo "$packages" | sha256sum | cut -c1-12).tar

if [ ! -s "$tarball" ]; then
  mkdir -p "$cache_dir"
  tmp=$(mktemp -d "$cache_dir/build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "debootstrap: making $tarball (once; about a minute)" >&2
  start=$(date +%s)
  debootstrap --variant=minbase --include="$packages" bookworm "$tmp/root" \
    http://deb.debian.org/debian >"$tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  mv "$tmp/rootfs.tar" "$tarball"
  echo "debootstrap: done in $(($(date +%s) - start)) s" >&2
fi
echo "$tarball"

#!/usr/bin/env bash
# Builds the emulated aarch64 device for the aarch64 suite (test/aarch64/), idempotent:
#   scripts/setup-aarch64.sh          both steps below
#   scripts/setup-aarch64.sh tools    only QEMU + binfmt_misc + mmdebstrap (apt: not beside another apt)
#   scripts/setup-aarch64.sh rootfs   only the root filesystem (scripts/setup.sh runs it in the
#                                     background while the rest of the set-up goes on)
#   - Debian's qemu-user-static registered with binfmt_misc, so this x86-64 machine runs aarch64
#     binaries for real (mounts binfmt_misc if it is not mounted; the registration stays);
#   - an arm64 Debian 12 root filesystem made with mmdebstrap from Debian's packages, with what a
#     JetPack image has that jetbench relies on (sshd, python3, g++, cmake, make), and a non-root
#     user `jetson` (uid 1000) whose password field is unusable but unlocked (sshd, UsePAM no),
#     and TVM 0.27 with onnx for the device's Python (PyPI's aarch64 wheels).
# The root filesystem is cached under .cache/aarch64-device/<key>/rootfs, keyed by this script's
# hash: a second run on the same machine reuses it. .cache/aarch64-device/current names the one in
# use. test/helpers/sshd.ts starts its sshd (chroot, private mounts) for each suite.
# Measured on a 2-core VM: ~2.5 min to build (dpkg's scripts run under emulation), ~950 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
MIRROR="${JETBENCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES=openssh-server,python3,g++,cmake,make,xz-utils,procps

if [[ "$(id -u)" != 0 ]]; then
  echo "setup-aarch64: not root: the emulated device needs root (binfmt_misc, chroot); skipping this setup"
  exit 0
fi
step="${1:-all}"
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
if [[ "$step" != rootfs ]]; then
# g++-aarch64-linux-gnu: the linker for modules this host compiles for the device (build --rpc).
# arch-test: mmdebstrap checks with it that arm64 binaries run here (only recommended by mmdebstrap,
# so --no-install-recommends leaves it out: "install arch-test for foreign architecture support").
if ! command -v mmdebstrap >/dev/null || [[ ! -x /usr/bin/qemu-aarch64-static ]] || ! command -v update-binfmts >/dev/null || ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v arch-test >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support mmdebstrap arch-test g++-aarch64-linux-gnu >/dev/null
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
# The package's registration (interpreter opened at registration: 'F', so it works in a chroot).
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
if [[ "$(head -1 /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null)" != enabled ]]; then
  echo "setup-aarch64: qemu-aarch64 is not registered with binfmt_misc (update-binfmts --enable qemu-aarch64 failed)" >&2
  exit 1
fi
fi
[[ "$step" == tools ]] && exit 0

key=$(sha256sum "$0" | cut -c1-12)
base=.cache/aarch64-device
root="$base/$key/rootfs"
if [[ ! -x "$root/usr/sbin/sshd" ]]; then
  echo "setup-aarch64: building an arm64 Debian 12 root filesystem with $PACKAGES (a few minutes: its package scripts run under emulation)"
  # mmdebstrap mounts /dev, /proc and /sys inside the new root while it works: in a mount namespace
  # of its own those mounts vanish with it, even when it is killed, so removing a half-built root
  # never reaches into the host's /dev or /proc.
  rm -rf --one-file-system "$base/$key.tmp" && mkdir -p "$base/$key.tmp"
  unshare --mount --propagation private mmdebstrap --quiet --arch=arm64 --variant=apt --include="$PACKAGES" \
    --customize-hook='chroot "$1" useradd --create-home --uid 1000 --shell /bin/bash jetson' \
    --customize-hook='chroot "$1" usermod -p "*" jetson' \
    --customize-hook='mkdir -p "$1/run/sshd" && chmod 0755 "$1/run/sshd"' \
    bookworm "$base/$key.tmp/rootfs" "$MIRROR"
  # The TVM backend's Python packages for aarch64 (PyPI's manylinux aarch64 wheels; the device has
  # no pip), at requirements-test.txt's pins, unpacked into /opt/jetbench-python and put on the
  # system Python's path with a .pth file, as a user's `pip install` would.
  pins=$(grep -E '^(onnx|numpy|apache-tvm|apache-tvm-ffi|psutil|cloudpickle)==' requirements-test.txt)
  wheels="$base/$key.tmp/wheels"
  # shellcheck disable=SC2086
  python3 -m pip download --quiet --only-binary=:all: --python-version 3.11 --implementation cp \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 --platform manylinux_2_26_aarch64 \
    --platform manylinux_2_24_aarch64 --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 \
    -d "$wheels" $pins
  site="$base/$key.tmp/rootfs/opt/jetbench-python"
  mkdir -p "$site"
  for w in "$wheels"/*.whl; do python3 -m zipfile -e "$w" "$site"; done
  echo /opt/jetbench-python > "$base/$key.tmp/rootfs/usr/lib/python3/dist-packages/jetbench-python.pth"
  rm -rf "$wheels"
  rm -rf "$base/$key" && mv "$base/$key.tmp" "$base/$key"
  # Older root filesystems (other keys) are not used any more.
  for d in "$base"/*/; do [[ "$(basename "$d")" == "$key" ]] || rm -rf --one-file-system "$d"; done
fi
printf '%s\n' "$(pwd)/$root" > "$base/current"
echo "setup-aarch64: $(chroot "$root" uname -m) root filesystem at $root ($(du -sh "$root" | cut -f1)), ready in $(( $(date +%s) - started )) s"

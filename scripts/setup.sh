#!/usr/bin/env bash
# Installs what estation needs on Debian 12 (bookworm) or newer: the PC/SC stack and
# the virtual reader driver used by the tests, CJK fonts for the screens and the
# printed paper, the X11/Wayland client libraries for the window, libinput and libudev
# for the console (linuxkms) backend, the display servers and tools the real-window
# tests use (Xvfb, xwd and xdotool; the cage Wayland kiosk compositor with Xwayland,
# and grim), the Debian packaging tools the package tests use (dpkg-dev, lintian,
# systemd for systemd-analyze), PostgreSQL (the central service's tests start their
# own throwaway server from it), cargo-nextest, cargo-deb, and schemathesis from PyPI
# in a virtual environment (the central service's property-based API test), and
# espeak-ng, the offline speech engine of voice guidance (Mandarin `cmn`, Cantonese
# `yue` and English `en-us` voices; the speech tests render to WAV, so they need no
# audio device), with GNU time for the speech benchmark's memory figure. Safe to run
# again: it only installs what is missing.
set -euo pipefail

packages=(
  build-essential pkg-config
  libpcsclite-dev pcscd vsmartcard-vpcd
  fonts-noto-cjk fonts-wqy-microhei fontconfig libfontconfig1-dev
  libxkbcommon-dev libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  libwayland-client0 libwayland-cursor0
  libinput-dev libudev-dev
  xvfb xauth x11-apps xdotool
  cage xwayland grim
  dpkg-dev binutils lintian systemd
  postgresql python3-venv openssl
  espeak-ng time
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "setup: this script installs with apt-get (Debian/Ubuntu); please install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The HID scanner tests drive a virtual USB scanner through uinput: load the module
# where the kernel has one (the tests skip loudly where there is none).
if [ ! -e /dev/uinput ] && command -v modprobe >/dev/null; then
  uinput_sudo=""
  if [ "$(id -u)" -ne 0 ]; then uinput_sudo="sudo"; fi
  $uinput_sudo modprobe uinput 2>/dev/null ||
    echo "setup: this kernel has no uinput module; the HID scanner tests will be skipped"
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is not installed; see https://rustup.rs" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest"
  cargo install cargo-nextest --locked
fi
# Pinned: the package tests hand cargo-deb the debug binaries the test run built
# (`--profile dev --no-build`), which this version accepts with a warning.
if ! cargo deb --version >/dev/null 2>&1; then
  echo "setup: installing cargo-deb"
  cargo install cargo-deb --locked --version 3.8.0
fi

# The property-based API tester, pinned, in its own virtual environment (the
# central service's tests look for it there).
schemathesis_version="4.32.5"
venv="${ESTATION_TOOLS_VENV:-${HOME:-/root}/.cache/estation/venv}"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$schemathesis_version"; then
  echo "setup: installing schemathesis $schemathesis_version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

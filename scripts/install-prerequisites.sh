#!/usr/bin/env bash
# Installs what the native module (darksidesync.so) and its tests need beyond the .NET SDK,
# on Debian or Ubuntu. Does nothing when everything is there already.
#   gcc, make      the C samples and the C test utilities
#   clang          NativeAOT links the shared library with it
#   lua5.4         the stock interpreter the module loads into
#   liblua5.4-dev  lua.h for the C utilities and the C host program
#   lua-socket     LuaSocket, under the dss helper module
#   lua-copas      the Copas sample and dss.socket's Copas thread (Debian installs it for Lua
#                  5.1/5.2; its Lua code runs on 5.4)
#   lua-luv        dss.luv (libuv bindings for 5.4)
#   lua-cqueues    dss.cqueues
#   zlib1g-dev     the NativeAOT runtime links against zlib
#   luarocks       darksidesync-dev-1.rockspec and its spec (RockspecSpec)
set -euo pipefail

packages=(gcc make clang zlib1g-dev lua5.4 liblua5.4-dev lua-socket lua-copas lua-luv lua-cqueues luarocks)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "install-prerequisites: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-prerequisites: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

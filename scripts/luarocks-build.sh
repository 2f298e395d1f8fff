#!/bin/sh
# The build and install steps of darksidesync-dev-1.rockspec (LuaRocks' "command" build type);
# LuaRocks runs them from the repository root, where `luarocks make` was started.
#
#   sh scripts/luarocks-build.sh build
#       publishes darksidesync.so with NativeAOT (Release) into $DARKSIDESYNC_ROCK_BUILD/module
#   sh scripts/luarocks-build.sh install LIBDIR LUADIR PREFIX
#       copies what the publish produced into the rock's folders, which LuaRocks then deploys
#       into the tree: darksidesync.so into LIBDIR (the tree's lib/lua/5.4), every .lua file
#       of the publish, subfolders kept (dss.lua, dss/luv.lua...), into LUADIR (the tree's
#       share/lua/5.4), and the C header for utility authors into PREFIX/include (the rock's
#       own folder: `luarocks show --rock-dir darksidesync`), so `luarocks remove` takes it too.
#
# DARKSIDESYNC_ROCK_BUILD (default artifacts/luarocks): the publish's output (module/) and
# intermediate (build/) folders, apart from a developer's artifacts/native and from the
# tests' artifacts/native-tests. The intermediate folder is kept, so a second `luarocks make`
# is an incremental publish; the output folder is emptied first, so only what this publish
# produced is installed.
set -eu

project=src/Dss.Native
header=$project/include/darksidesync_api.h
build_root=${DARKSIDESYNC_ROCK_BUILD:-artifacts/luarocks}
module_dir=$build_root/module

fail() {
  echo "darksidesync: $*" >&2
  exit 1
}

check_source_tree() {
  [ -f "$project/Dss.Native.csproj" ] ||
    fail "run luarocks from the root of the darksidesync-dotnet repository (no $project/Dss.Native.csproj in $(pwd))"
}

check_tools() {
  command -v dotnet >/dev/null 2>&1 ||
    fail "'dotnet' is not on PATH. darksidesync.so is compiled with NativeAOT: install the .NET 10 SDK (https://dotnet.microsoft.com/download) and run luarocks again."
  dotnet --list-sdks 2>/dev/null | grep -Eq '^(1[0-9]|[2-9][0-9])\.' ||
    fail "'dotnet' ($(command -v dotnet)) has no .NET SDK 10 or later (dotnet --list-sdks: $(dotnet --list-sdks 2>/dev/null | tr '\n' ' ')). Install the .NET 10 SDK (https://dotnet.microsoft.com/download)."
  command -v clang >/dev/null 2>&1 ||
    fail "'clang' is not on PATH: NativeAOT links darksidesync.so with it (Debian: apt-get install clang zlib1g-dev)."
  command -v cc >/dev/null 2>&1 ||
    fail "'cc' is not on PATH: the build compiles the engine's C trampoline with it (Debian: apt-get install gcc)."
}

build_module() {
  check_source_tree
  check_tools
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  rm -rf "$module_dir"
  # --disable-build-servers: no MSBuild or compiler server stays running after luarocks ends.
  dotnet publish "$project" -c Release -o "$module_dir" --artifacts-path "$build_root/build" \
    --disable-build-servers -nologo
  [ -f "$module_dir/darksidesync.so" ] || fail "the publish left no $module_dir/darksidesync.so"
}

install_rock() {
  [ $# -eq 3 ] || fail "usage: $0 install LIBDIR LUADIR PREFIX"
  libdir=$1 luadir=$2 prefix=$3
  check_source_tree
  [ -f "$module_dir/darksidesync.so" ] || fail "$module_dir/darksidesync.so is missing: the build step did not run"

  mkdir -p "$libdir" "$luadir" "$prefix/include"
  cp "$module_dir/darksidesync.so" "$libdir/"
  found=$(find "$module_dir" -type f -name '*.lua' | sort)
  [ -n "$found" ] || fail "the publish left no .lua file in $module_dir (dss.lua at least)"
  echo "$found" | while IFS= read -r file; do
    relative=${file#"$module_dir"/}
    case $relative in
      */*) mkdir -p "$luadir/${relative%/*}" ;;
    esac
    cp "$file" "$luadir/$relative"
  done
  cp "$header" "$prefix/include/"
}

case ${1:-} in
  build) build_module ;;
  install) shift; install_rock "$@" ;;
  *) fail "usage: $0 build | install LIBDIR LUADIR PREFIX" ;;
esac

# build.sh: the build steps run.sh and vs_original.sh share; sourced, not run.
#   HERE, ROOT, OUT set by the caller; `SCRIPT` names the caller in messages.
#   check_tools                 lua5.4, make, gcc, LuaSocket for lua5.4
#   publish_module DIR          dotnet publish src/Dss.Native (Release) into DIR unless the
#                               copy there is newer than every source it is built from
#   build_producer DIR          dss_producer.so into DIR (make rebuilds only what changed)

check_tools() {
  local tool
  for tool in lua5.4 make gcc; do
    command -v "$tool" >/dev/null || { echo "$SCRIPT: $tool not found (apt-get install lua5.4 liblua5.4-dev lua-socket gcc make clang)" >&2; exit 1; }
  done
  lua5.4 -e 'require "socket"' 2>/dev/null || { echo "$SCRIPT: LuaSocket missing for lua5.4 (apt-get install lua-socket)" >&2; exit 1; }
}

# A stamp written after a successful publish marks the build; any newer source (engine,
# export layer, HOCON defaults, package versions) means publishing again. The stamp, not
# the .so's own mtime: a no-op publish may leave the .so untouched.
publish_module() {
  local module="$1" stamp="$1/.published" stale=yes newer
  if [ -f "$stamp" ] && [ -f "$module/darksidesync.so" ]; then
    newer="$(find "$ROOT/src/Dss.Native" "$ROOT/src/Dss.Actors" "$ROOT/hocon" \
                  "$ROOT/Directory.Build.props" "$ROOT/Directory.Packages.props" \
                  \( -name bin -o -name obj \) -prune -o -type f -newer "$stamp" -print -quit)"
    [ -z "$newer" ] && stale=
  fi
  if [ -n "$stale" ]; then
    echo "publishing darksidesync.so (Release) into ${module#"$ROOT"/} ..." >&2
    if ! dotnet publish "$ROOT/src/Dss.Native" -c Release -o "$module" >"$OUT/publish.log" 2>&1; then
      tail -n 30 "$OUT/publish.log" >&2
      echo "$SCRIPT: dotnet publish failed (full log: ${OUT#"$ROOT"/}/publish.log)" >&2
      exit 1
    fi
    touch "$stamp"
  else
    echo "reusing ${module#"$ROOT"/}/darksidesync.so (newer than its sources)" >&2
  fi
}

# The producer utility; make rebuilds it only when its sources or the API header changed.
build_producer() {
  local utilities="$1"
  if ! make -s -C "$ROOT/samples/c" BUILD="$utilities" "$utilities/dss_producer.so" >"$OUT/make.log" 2>&1; then
    cat "$OUT/make.log" >&2
    echo "$SCRIPT: building dss_producer failed" >&2
    exit 1
  fi
}

rockspec_format = "3.0"
package = "darksidesync"
version = "dev-1"

source = {
   -- Placeholder: the project's git repository, once it has a public home.
   url = "git+https://github.com/darksidesync/darksidesync-dotnet.git",
}

description = {
   summary = "DarkSideSync for .NET: background threads deliver work into a single-threaded Lua state",
   detailed = [[
DarkSideSync (DSS) lets C utilities and their threads deliver results into one Lua state,
which runs them as callbacks when it polls (or when the dss helper's UDP socket wakes its
select loop). This is the C# re-implementation on Akka.NET, compiled with NativeAOT into
darksidesync.so, a C module for stock Lua 5.4 with no liblua dependency.

Installs the modules darksidesync (darksidesync.so) and dss (dss.lua, on LuaSocket) and the
C header for utility authors, darksidesync_api.h, in the include folder of the rock's own
directory (removed with the rock): compile a utility with
-I"$(luarocks --lua-version 5.4 show --rock-dir darksidesync)/include" (and --tree DIR when
the rock is in another tree).

Building needs the .NET 10 SDK (dotnet), clang and zlib1g-dev (NativeAOT's link) and a C
compiler (cc); luarocks make must be run from the repository root.
]],
   homepage = "https://github.com/darksidesync/darksidesync-dotnet",
   license = "MIT",
}

-- The csproj publishes for linux-x64 only.
supported_platforms = { "linux" }

dependencies = {
   "lua >= 5.4, < 5.5",
}

-- scripts/luarocks-build.sh says what each step does; the publish goes to artifacts/luarocks
-- (DARKSIDESYNC_ROCK_BUILD), never to a developer's artifacts/native. LuaRocks runs both
-- commands in the folder `luarocks make` was started in.
build = {
   type = "command",
   build_command = [[
[ -f scripts/luarocks-build.sh ] || { echo "darksidesync: run luarocks make from the root of the darksidesync-dotnet repository" >&2; exit 1; }
sh scripts/luarocks-build.sh build]],
   install_command = [[sh scripts/luarocks-build.sh install "$(LIBDIR)" "$(LUADIR)" "$(PREFIX)"]],
}

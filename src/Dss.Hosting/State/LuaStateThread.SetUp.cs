using System.Runtime.InteropServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

// The Lua thread's start: the state, its libraries, darksidesync, hosting.lua, the exports,
// the sandbox, the queue bound, the utility, the start-up scripts.
internal sealed partial class LuaStateThread
{
    private static ReadOnlySpan<byte> LoopKey => "DarkSideSync.Hosting.loop\0"u8;
    private static ReadOnlySpan<byte> StartupKey => "DarkSideSync.Hosting.startup\0"u8;

    private static readonly Lazy<byte[]> HostingChunk = new(() =>
    {
        using var resource = typeof(LuaStateThread).Assembly.GetManifestResourceStream("DarkSideSync.Hosting.hosting.lua")!;
        using var bytes = new MemoryStream();
        resource.CopyTo(bytes);
        return bytes.ToArray();
    });

    // Removes what untrusted scripts must not have (LuaLibraries.Safe); hosting.lua keeps its own copies.
    private const string SafeSandbox = """
        io = nil; debug = nil; dofile = nil; loadfile = nil
        package.loaded.io = nil; package.loaded.debug = nil
        package.loadlib = nil; package.cpath = ""
        package.searchers[3] = nil; package.searchers[4] = nil
        local keep = { clock = true, time = true, date = true, difftime = true }
        for name in pairs(os) do if not keep[name] then os[name] = nil end end
        """;

    private unsafe void SetUp()
    {
        Budgets.BudgetCalls.EnsureInitialized();
        _lua = new KeraLua.Lua(openLibs: true);
        nint L = _lua.Handle;
        _self = GCHandle.Alloc(this);
        DssModule.Preload(L, _system);
        Run(L, "require 'darksidesync'", "require \"darksidesync\"");
        DssModule.DeclareLuaThread(L);
        Run(L, "package.path = ...", "package.path", PackagePath());

        // hosting.lua(core, darksidesync) -> M
        if (luaL_loadbuffer(L, HostingChunk.Value, "=hosting.lua\0"u8) != LUA_OK)
        {
            throw new LuaStartupException($"{Name}: hosting.lua: {lua_tostring(L, -1)}");
        }
        CoreFunctions.Push(L, (nint)_self);
        lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED\0"u8);
        lua_getfield(L, -1, "darksidesync\0"u8);
        lua_replace(L, -2);
        if (lua_pcall(L, 2, 1) != LUA_OK)
        {
            throw new LuaStartupException($"{Name}: hosting.lua: {lua_tostring(L, -1)}");
        }
        int module = lua_gettop(L);
        lua_getfield(L, module, "loop\0"u8);
        lua_setfield(L, LUA_REGISTRYINDEX, LoopKey);
        lua_getfield(L, module, "startup\0"u8);
        lua_setfield(L, LUA_REGISTRYINDEX, StartupKey);
        CallFunction = Reference(L, module, "call\0"u8);
        ResumeFunction = Reference(L, module, "resume\0"u8);
        AbandonFunction = Reference(L, module, "abandon\0"u8);
        Bridge.ExportFunctions.Install(L, module, (nint)_self, Options.Exports, this);
        lua_settop(L, 0);

        if (Options.Libraries == LuaLibraries.Safe)
        {
            Run(L, SafeSandbox, "the sandbox");
        }
        if (Options.QueueCapacity is { } capacity)
        {
            Run(L, "require('darksidesync').setlimit(...)", "setlimit", capacity, Options.QueueOverflow == QueueOverflow.Fail ? "fail" : "block");
        }
        if (DssUtility.Register(L, this, static u => u.Unregister(), out var utility) != DssStatus.Success)
        {
            throw new LuaStartupException($"{Name}: DSS did not start for the state.");
        }
        Utility = utility!;
        foreach (var script in Options.StartupScripts)
        {
            RunStartupScript(L, script);
        }
    }

    private static int Reference(nint L, int module, ReadOnlySpan<byte> name)
    {
        lua_getfield(L, module, name);
        return luaL_ref(L, LUA_REGISTRYINDEX);
    }

    private string PackagePath() =>
        string.Join(';', Options.ScriptFolders.SelectMany(folder =>
        {
            string full = Path.GetFullPath(folder);
            return new[] { Path.Combine(full, "?.lua"), Path.Combine(full, "?", "init.lua") };
        }));

    // Runs a piece of set-up Lua with string or integer arguments; a failure fails the start.
    private void Run(nint L, string chunk, string what, params object[] arguments)
    {
        if (luaL_loadbuffer(L, System.Text.Encoding.UTF8.GetBytes(chunk), "=hosting set-up\0"u8) != LUA_OK)
        {
            throw new LuaStartupException($"{Name}: {what}: {lua_tostring(L, -1)}");
        }
        foreach (var argument in arguments)
        {
            if (argument is int i)
            {
                lua_pushinteger(L, i);
            }
            else
            {
                lua_pushstring(L, (string)argument);
            }
        }
        if (lua_pcall(L, arguments.Length, 0) != LUA_OK)
        {
            string message = lua_tostring(L, -1) ?? "(no message)";
            lua_settop(L, 0);
            throw new LuaStartupException($"{Name}: {what}: {message}");
        }
    }

    private void RunStartupScript(nint L, string script)
    {
        string path = FindScript(script);
        lua_getfield(L, LUA_REGISTRYINDEX, StartupKey);
        lua_pushstring(L, path);
        if (lua_pcall(L, 1, 3) != LUA_OK)
        {
            string failure = lua_tostring(L, -1) ?? "(no message)";
            lua_settop(L, 0);
            throw new LuaStartupException($"{Name}: start-up script {script}: {failure}");
        }
        bool ok = lua_toboolean(L, 1) != 0;
        string message = lua_tostring(L, 2) ?? "";
        string traceback = lua_tostring(L, 3) ?? "";
        lua_settop(L, 0);
        if (!ok)
        {
            throw new LuaStartupException($"{Name}: start-up script {script} failed: {message}\n{traceback}", traceback);
        }
    }

    private string FindScript(string script)
    {
        if (Path.IsPathRooted(script) || File.Exists(script))
        {
            return Path.GetFullPath(script);
        }
        foreach (var folder in Options.ScriptFolders)
        {
            string candidate = Path.Combine(folder, script);
            if (File.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }
        throw new LuaStartupException($"{Name}: start-up script {script} not found (looked in: {string.Join(", ", Options.ScriptFolders)})");
    }
}

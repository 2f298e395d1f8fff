using System.Runtime.InteropServices;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

// The Lua thread's start: the state, its libraries, darksidesync, hosting.lua, the exports,
// the sandbox, the queue bound, the utility, the start-up scripts.
internal sealed partial class LuaStateThread
{
    private static ReadOnlySpan<byte> LoopKey => "DarkSideSync.Hosting.loop\0"u8;
    private static ReadOnlySpan<byte> StartupKey => "DarkSideSync.Hosting.startup\0"u8;

    // The budget hook's "call" while start-up scripts run: no real call has it (ids start at 1,
    // and the control block's empty abandon slots hold 0).
    private const long StartupCall = -1;

    private static readonly Lazy<byte[]> HostingChunk = new(() =>
    {
        using var resource = typeof(LuaStateThread).Assembly.GetManifestResourceStream("DarkSideSync.Hosting.hosting.lua")!;
        using var bytes = new MemoryStream();
        resource.CopyTo(bytes);
        return bytes.ToArray();
    });

    // Removes what untrusted scripts must not have (LuaLibraries.Safe); hosting.lua keeps its own
    // copies. require finds Lua files on the configured path only, whatever a script does to
    // package.path; load takes source text only (crafted bytecode can crash Lua); darksidesync
    // itself is out of reach (a script that stopped DSS would stop its state).
    private const string SafeSandbox = """
        local fixed_path, searchpath, raw_loadfile, raw_load = package.path, package.searchpath, loadfile, load
        io = nil; debug = nil; dofile = nil; loadfile = nil
        package.loaded.io = nil; package.loaded.debug = nil
        package.loaded.darksidesync = nil; package.preload.darksidesync = nil
        package.loadlib = nil; package.cpath = ""
        package.searchers[2] = function(name)
          local file, missing = searchpath(name, fixed_path)
          if not file then return "\n\t" .. missing end
          local chunk, err = raw_loadfile(file, "t")
          if not chunk then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, file, err), 2) end
          return chunk, file
        end
        package.searchers[3] = nil; package.searchers[4] = nil
        load = function(chunk, name, mode, env) return raw_load(chunk, name, "t", env) end
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
        MakeRunner(L);
        lua_settop(L, 0);

        if (Options.QueueCapacity is { } capacity)
        {
            Run(L, "require('darksidesync').setlimit(...)", "setlimit", capacity, Options.QueueOverflow == QueueOverflow.Fail ? "fail" : "block");
        }
        // The sandbox takes darksidesync out of Lua's reach: the bound is set through it first.
        if (Options.Libraries == LuaLibraries.Safe)
        {
            Run(L, SafeSandbox, "the sandbox");
        }
        // Stop-DSS (lua_close, or a script's darksidesync.stop()) cancels this utility: without it
        // no call can arrive, so the loop ends and the state is over (a pool replaces it). The
        // calls in flight fail, whichever thread runs them.
        if (DssUtility.Register(L, this, u =>
            {
                u.Unregister();
                _running = false;
                FailUnanswered(); // as the cancelled deliveries fail the queued calls, so do the calls run here
                u.WakeLua();      // a stop from a call run on its caller's thread finds the loop asleep
            }, out var utility) != DssStatus.Success)
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

    private unsafe void RunStartupScript(nint L, string script)
    {
        string path = FindScript(script);
        lua_getfield(L, LUA_REGISTRYINDEX, StartupKey);
        lua_pushstring(L, path);
        // Under the budget hook: a script that never ends fails the start at the time limit, or
        // when the start is cancelled, instead of holding the thread forever.
        Budgets.BudgetCalls.dss_budget_arm(L);
        long now = Budgets.BudgetCalls.dss_budget_now_ns();
        long deadline = Options.StartupTimeout == Timeout.InfiniteTimeSpan ? long.MaxValue : now + (long)Options.StartupTimeout.TotalNanoseconds;
        Budgets.BudgetCalls.dss_budget_enter(Control, StartupCall, deadline, Options.MemoryLimitBytes ?? 0);
        int status = lua_pcall(L, 1, 3);
        Budgets.BudgetCalls.dss_budget_leave();
        Budgets.BudgetCalls.dss_budget_disarm(L);
        if (status != LUA_OK)
        {
            // The hook keeps firing on the main thread once the time is spent, so its marker can
            // come out of the runner itself rather than through the script's message handler.
            nint marker = (nint)lua_touserdata(L, -1);
            string failure = marker == Budgets.BudgetCalls.dss_budget_time_marker() ? $"time budget exceeded (StartupTimeout {Options.StartupTimeout})"
                : marker == Budgets.BudgetCalls.dss_budget_memory_marker() ? "memory budget exceeded"
                : marker == Budgets.BudgetCalls.dss_budget_cancel_marker() ? "the start was cancelled"
                : lua_tostring(L, -1) ?? "(no message)";
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

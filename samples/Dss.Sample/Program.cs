using Akka.Actor;
using Akka.Configuration;
using DarkSideSync;
using DarkSideSync.Sample;
using KeraLua;

// The host: one Lua state, run by this thread (its Lua thread), and one ActorSystem.
var config = ConfigurationFactory.ParseString("""
    akka.loglevel = WARNING
    akka.stdout-loglevel = WARNING
    """);
var system = ActorSystem.Create("dss-sample", config);
var lua = new Lua();
int exitCode;
try
{
    exitCode = Run(lua, system);
}
finally
{
    // Runs stop-DSS through the garbage collector (a no-op when the script called
    // darksidesync.stop()); after it no utility hook touches the state.
    lua.Close();
}
await TimerUtility.WhenStopped();
await WorkerPoolUtility.WhenIdle();
Story.Tell("host", $"summary: {TimerUtility.TicksDelivered} ticks delivered; worker results: {WorkerPoolUtility.Summary}");
await system.Terminate();
Story.Tell("host", "Lua state closed, actor system terminated");
return exitCode;

static int Run(Lua lua, ActorSystem system)
{
    DssModule.Preload(lua.Handle, system);
    if (lua.DoString("return _VERSION .. ' with ' .. require('darksidesync')._VERSION"))
    {
        return Fail(lua, "loading darksidesync");
    }
    Story.Tell("host", lua.ToString(-1));
    lua.Pop(1);

    // Utilities register on the Lua thread, once DSS is started: here, before the script runs.
    TimerUtility.Install(lua);
    WorkerPoolUtility.Install(lua);
    Auditor.Start(lua, system, after: TimeSpan.FromMilliseconds(700));
    Story.Tell("host", "registered the timer, the worker pool and the auditor; running script.lua");

    return lua.DoFile(Path.Combine(AppContext.BaseDirectory, "script.lua")) ? Fail(lua, "running script.lua") : 0;
}

static int Fail(Lua lua, string doing)
{
    Story.Tell("host", $"failed {doing}: {lua.ToString(-1)}");
    return 1;
}

using Akka.Actor;
using Akka.Configuration;
using KeraLua;

namespace DarkSideSync.Benchmarks;

/// <summary>
/// The host of every scenario: one actor system and one KeraLua state with darksidesync and
/// bench.lua loaded. The thread that creates it is the Lua thread (the program's main thread);
/// only it may call <see cref="Call"/> or <see cref="Reference"/>.
/// </summary>
internal sealed class BenchHost : IDisposable
{
    public BenchHost()
    {
        System = ActorSystem.Create("dss-bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        Lua = new Lua();
        DssModule.Preload(Lua.Handle, System);
        Run("darksidesync = require 'darksidesync'");
        using var script = typeof(BenchHost).Assembly.GetManifestResourceStream("DarkSideSync.Benchmarks.bench.lua")!;
        using var reader = new StreamReader(script);
        Run(reader.ReadToEnd());
    }

    public ActorSystem System { get; }

    public Lua Lua { get; }

    /// <summary>The raw <c>lua_State*</c>.</summary>
    public nint State => Lua.Handle;

    /// <summary>Calls <c>bench[function](n)</c> and returns its first integer result; a Lua error throws.</summary>
    public long Call(string function, long n) => Call2(function, n).First;

    /// <summary>Calls <c>bench[function](n)</c> and returns its two integer results (a missing one is 0).</summary>
    public (long First, long Second) Call2(string function, long n)
    {
        int top = Lua.GetTop();
        Lua.GetGlobal("bench");
        Lua.GetField(-1, function);
        Lua.PushInteger(n);
        if (Lua.PCall(1, 2, 0) != LuaStatus.OK)
        {
            string message = Lua.ToString(-1);
            Lua.SetTop(top);
            throw new InvalidOperationException($"bench.{function} failed: {message}");
        }
        var results = (Lua.ToInteger(-2), Lua.ToInteger(-1));
        Lua.SetTop(top);
        return results;
    }

    /// <summary>Anchors <c>bench[name]</c> in the registry, as a utility keeps its Lua callback.</summary>
    public LuaReference Reference(string name)
    {
        Lua.GetGlobal("bench");
        Lua.GetField(-1, name);
        int id = Lua.Ref(LuaRegistry.Index);
        Lua.Pop(1);
        return new LuaReference(id);
    }

    private void Run(string chunk)
    {
        if (Lua.DoString(chunk))
        {
            throw new InvalidOperationException("Lua error: " + Lua.ToString(-1));
        }
    }

    /// <summary>Closes the state (stop-DSS runs the utilities' cancel hooks), then the actor system.</summary>
    public void Dispose()
    {
        Lua.Close();
        System.Terminate().Wait(TimeSpan.FromSeconds(10));
        System.Dispose();
    }
}

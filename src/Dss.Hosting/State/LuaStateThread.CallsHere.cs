using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Event;
using DarkSideSync.Hosting.Calls;
using DarkSideSync.Hosting.Codec;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

// Calls run on their caller's thread (LuaStateOptions.RunCallsOnCallerThread). The state has a
// gate, and whoever holds it may run Lua in it: the state's thread holds it always, except
// while its loop sleeps (core.sleep). A caller that finds the gate free and nothing queued runs
// its call itself, on a Lua thread of its own (the runner), and gets its answer with no thread
// hop, as with a lock; otherwise its call is queued for the state's thread as before.
//
// Invariants: one holder at a time (the semaphore's count is 1), so the Lua side stays single
// threaded and the handover is a full fence; the state's thread takes the gate before it opens
// the state and never gives it back after its loop ended, so no caller runs in a closed state;
// a call that awaits .NET goes on from the state's thread (its async result is a DSS delivery).
internal sealed partial class LuaStateThread
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private nint _runner; // the Lua thread calls run here start on; anchored in the registry

    /// <summary>Calls run on their caller's thread whose answer has not come, by id.</summary>
    public ConcurrentDictionary<long, InlineAnswer> Answering { get; } = new();

    /// <summary>The state's thread, once, before it opens the state: it holds the gate from now on.</summary>
    private void TakeGateForGood() => _gate.Wait();

    /// <summary>Set-up, on the state's thread: the runner, a Lua thread of the state kept in its registry.</summary>
    private void MakeRunner(nint L)
    {
        _runner = lua_newthread(L);
        luaL_ref(L, LUA_REGISTRYINDEX);
    }

    /// <summary>
    /// The state's thread, in core.sleep: spins briefly for the next delivery, then sleeps
    /// until one is queued or the host wakes it. With calls on callers' threads it lets go of
    /// the state meanwhile, and returns once it has it back.
    /// </summary>
    public void Sleep()
    {
        if (!Options.RunCallsOnCallerThread)
        {
            SpinForDelivery();
            Utility.WaitForDeliveries();
            return;
        }
        _gate.Release();
        try
        {
            SpinForDelivery();
            Utility.WaitForDeliveries();
        }
        finally
        {
            _gate.Wait(); // a caller that runs a call here finishes it first
        }
    }

    // A delivery that follows soon after the last is taken without a wake-up.
    private void SpinForDelivery()
    {
        long start = Stopwatch.GetTimestamp();
        while (Utility.QueueSize == 0 && IsRunning && Stopwatch.GetTimestamp() - start < SpinTicks)
        {
            Thread.SpinWait(20);
        }
    }

    /// <summary>
    /// Caller's thread: runs <paramref name="call"/> here if the state is idle, and returns
    /// where its answer comes; null: the state is busy (or stops), queue the call instead.
    /// Throws <see cref="LuaConversionException"/> for an argument that cannot be a Lua value
    /// (nothing ran).
    /// </summary>
    private InlineAnswer<TResult>? TryRunHere<TResult>(HostedCall call, CancellationToken cancellationToken)
    {
        if (!Options.RunCallsOnCallerThread || !_gate.Wait(0))
        {
            return null;
        }
        try
        {
            if (!_running || _lua is null || Utility.QueueSize != 0)
            {
                return null; // stopping, or calls are queued: this one goes behind them
            }
            var answer = new InlineAnswer<TResult>();
            call.Inline = answer;
            Answering[call.Id] = answer;
            RunHere(call);
            return answer;
        }
        finally
        {
            _gate.Release();
        }
    }

    // Holding the gate: hosting.lua's call(nil, id, path, args...) on the runner. It answers
    // through core.answer before it returns, unless the call awaits .NET.
    private void RunHere(HostedCall call)
    {
        nint R = _runner;
        var arguments = call.Arguments;
        if (lua_checkstack(R, arguments.Length + 8) == 0)
        {
            throw new LuaConversionException($"{call.Path}: too many arguments ({arguments.Length}) for the Lua stack");
        }
        lua_rawgeti(R, LUA_REGISTRYINDEX, CallFunction);
        lua_pushnil(R);
        lua_pushinteger(R, call.Id);
        lua_pushstring(R, call.Path);
        try
        {
            for (int i = 0; i < arguments.Length; i++)
            {
                LuaCodec.Push(R, arguments[i], "args", i + 1);
            }
        }
        catch
        {
            lua_settop(R, 0);
            throw;
        }
        Interlocked.Exchange(ref call.ReachedLua, 1);
        if (call.Timed)
        {
            Volatile.Write(ref call.DecodedAt, Stopwatch.GetTimestamp());
        }
        int status;
        using (Utility.EnterLuaThread()) // a blocking delivery to this state from here would never be answered
        {
            status = lua_pcall(R, 3 + arguments.Length, 0);
        }
        if (status != LUA_OK)
        {
            // hosting.lua protects the call itself: only a memory error, or a bug of hosting.lua, gets here.
            string message = lua_tostring(R, -1) ?? "(no message)";
            Log.Error("{0}: running {1} on the caller's thread failed: {2}", Name, call.Path, message);
            if (Answering.TryRemove(call.Id, out var answer))
            {
                answer.Fail(new LuaScriptException(call.Path, message, ""));
            }
        }
        lua_settop(R, 0);
    }

    // The state closed: calls that ran here and awaited .NET get no answer any more.
    private void FailUnanswered()
    {
        foreach (var id in Answering.Keys)
        {
            if (Answering.TryRemove(id, out var answer))
            {
                answer.Fail(new LuaStateUnavailableException($"{Name}: the state stopped before the call answered.", reachedLua: true));
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using DarkSideSync.Hosting.Budgets;
using DarkSideSync.Hosting.Calls;
using static DarkSideSync.Interop.LuaNative;

namespace DarkSideSync.Hosting.State;

/// <summary>
/// One Lua state on a dedicated OS thread, for the state's whole life: the thread opens it,
/// runs the start-up scripts, runs DSS's loop (sleep in <c>wait</c>, <c>dispatch</c>), and
/// closes it at stop. A call arrives as a DSS delivery, or, while the loop sleeps, runs on its
/// caller's thread (LuaStateThread.CallsHere.cs); either way one thread at a time runs Lua in it.
/// </summary>
/// <remarks>
/// The Lua side is <c>hosting.lua</c>; its core functions (<see cref="CoreFunctions"/>) and the
/// exported .NET functions (<see cref="Bridge.ExportFunctions"/>) reach this object through a
/// GCHandle in their upvalue 1, freed after the state closed.
/// </remarks>
internal sealed partial class LuaStateThread
{
    private readonly ActorSystem _system;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _running = true;    // false: the loop returns at its next turn
    private volatile bool _accepting = true;  // false once stop began: new calls are refused
    private int _outstanding;                 // calls accepted whose caller has no answer yet
    private long _lastCallId;
    private long _lastToken;                  // async .NET results, by token
    private KeraLua.Lua? _lua;                // the Lua thread's
    private GCHandle _self;                   // upvalue 1 of the core and export functions

    public unsafe LuaStateThread(ActorSystem system, LuaStateOptions options, string name, string? pool = null)
    {
        _system = system;
        Options = options;
        Name = name;
        MetricTags = Diagnostics.LuaMetrics.TagsOf(pool, name);
        Log = Logging.GetLogger(system, $"DarkSideSync.Hosting({name})");
        SpinTicks = (long)(options.SpinBeforeSleep.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        Control = (BudgetCalls.Control*)NativeMemory.AllocZeroed((nuint)sizeof(BudgetCalls.Control));
        _thread = new Thread(Run) { IsBackground = true, Name = $"Lua {name}" };
    }

    public LuaStateOptions Options { get; }

    public string Name { get; }

    /// <summary>The tags of this state's metrics (pool, state); never changed.</summary>
    public System.Diagnostics.TagList MetricTags { get; }

    public ILoggingAdapter Log { get; }

    /// <summary>The budget hook's control block: lives until the thread ended.</summary>
    public unsafe BudgetCalls.Control* Control { get; }

    /// <summary>Any thread: whatever script runs now ends at its next budget check (the state stops).</summary>
    public unsafe void EndWhateverRuns() => Interlocked.Exchange(ref Control->Stopping, 1);

    /// <summary>Any thread: the call <paramref name="id"/> ends at its next budget check if it is running.</summary>
    public unsafe void EndIfRunning(long id)
    {
        long slot = (Interlocked.Increment(ref Control->NextAbandoned) - 1) % BudgetCalls.Control.AbandonedSlots;
        Interlocked.Exchange(ref Control->Abandoned[slot], id);
    }

    /// <summary>The calls that may still reach or run in Lua, by id.</summary>
    public ConcurrentDictionary<long, HostedCall> Calls { get; } = new();

    /// <summary>Lua thread: running calls by their coroutine (an export finds its call there).</summary>
    public Dictionary<nint, HostedCall> CallsByCoroutine { get; } = [];

    /// <summary>The utility every delivery of this state goes through; set before start completes.</summary>
    public DssUtility Utility { get; private set; } = null!;

    /// <summary>The exported .NET functions, by the index their Lua functions carry; set at start.</summary>
    public Bridge.ExportFunctions.Export[] Exports { get; set; } = [];

    /// <summary>Registry references of hosting.lua's functions; Lua thread.</summary>
    public int CallFunction { get; private set; }
    public int ResumeFunction { get; private set; }
    public int AbandonFunction { get; private set; }

    public bool IsRunning => _running;

    /// <summary>How long the loop spins for the next call before it sleeps (Stopwatch ticks).</summary>
    public long SpinTicks { get; private set; }

    /// <summary>Calls accepted whose caller has no answer yet (the pool's least-busy routing reads it).</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>A new token for an async .NET function's result.</summary>
    public long NextToken() => Interlocked.Increment(ref _lastToken);

    public Task Exited => _exited.Task;

    /// <summary>
    /// Starts the thread; completes once the state is ready for calls, or fails with the start-up
    /// error. A cancelled token ends a start-up script that still runs (the start then fails).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _thread.Start();
        using (cancellationToken.Register(static s => ((LuaStateThread)s!).EndWhateverRuns(), this))
        {
            await _started.Task.ConfigureAwait(false);
        }
    }

    private void Run()
    {
        TakeGateForGood();
        try
        {
            SetUp();
        }
        catch (Exception e)
        {
            _started.TrySetException(e is LuaStartupException ? e : new LuaStartupException($"{Name}: the state could not be set up: {e.Message}"));
            CloseState();
            return;
        }
        Diagnostics.LuaMetrics.Started(this);
        _started.TrySetResult();
        RunLoop();
        CloseState();
    }

    private void RunLoop()
    {
        nint L = _lua!.Handle;
        lua_getfield(L, LUA_REGISTRYINDEX, LoopKey);
        if (lua_pcall(L, 0, 0) != LUA_OK)
        {
            // Only a bug of hosting.lua, or a memory error, gets here: the state is no good any more.
            Log.Error("{0}: the Lua loop failed: {1}", Name, lua_tostring(L, -1));
            lua_settop(L, 0);
        }
    }

    private void CloseState()
    {
        _running = false;
        _accepting = false;
        Diagnostics.LuaMetrics.Closed(this);
        try
        {
            _lua?.Close(); // stop-DSS: what is still queued or held by Lua is cancelled, its callers fail
        }
        catch (Exception e)
        {
            Log.Error(e, "{0}: closing the Lua state failed.", Name);
        }
        finally
        {
            _lua = null;
            if (_self.IsAllocated)
            {
                _self.Free();
            }
            foreach (var call in Calls.Values)
            {
                call.Cancel();
            }
            Calls.Clear();
            FailUnanswered();
            _exited.TrySetResult();
        }
    }

    /// <summary>
    /// The graceful stop: refuses new calls; lets the outstanding ones finish (drain) or ends
    /// them (cancel), within the deadline; then ends whatever still runs, leaves the loop and
    /// closes the state. Any thread; completes once the thread ended.
    /// </summary>
    public async Task StopAsync()
    {
        _accepting = false;
        Interlocked.MemoryBarrier(); // before the read of _outstanding: see the caller's decrement, then its read of _accepting
        if (_started.Task.IsCompletedSuccessfully && !_exited.Task.IsCompleted)
        {
            if (Options.StopMode == LuaStopMode.Drain && Volatile.Read(ref _outstanding) > 0)
            {
                await Task.WhenAny(_drained.Task, _exited.Task, Task.Delay(Options.StopDeadline)).ConfigureAwait(false);
            }
            EndWhateverRuns();
            _running = false;
            Utility.WakeLua();
        }
        await _exited.Task.ConfigureAwait(false);
    }

    // The control block is written by callers' threads (a timeout abandoning its call) for as
    // long as they reference this object: it goes only with the object itself.
    unsafe ~LuaStateThread() => NativeMemory.Free(Control);
}

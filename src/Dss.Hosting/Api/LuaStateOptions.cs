namespace DarkSideSync.Hosting;

/// <summary>Which standard libraries a hosted state opens.</summary>
public enum LuaLibraries
{
    /// <summary>All of them, as plain <c>lua5.4</c> has them.</summary>
    All,

    /// <summary>
    /// For untrusted scripts: no <c>io</c>, no <c>debug</c>; <c>os</c> keeps only <c>clock</c>,
    /// <c>time</c>, <c>date</c> and <c>difftime</c>; <c>require</c> loads Lua files from the
    /// script folders only, whatever a script does to <c>package.path</c> (no <c>loadlib</c>, no C
    /// modules); <c>load</c> takes source text only (no bytecode); no <c>dofile</c>/<c>loadfile</c>;
    /// no <c>darksidesync</c> (the state's own loop uses it).
    /// </summary>
    Safe,
}

/// <summary>What a graceful stop does with the calls that have not finished.</summary>
public enum LuaStopMode
{
    /// <summary>Lets queued and running calls finish, until the stop deadline.</summary>
    Drain,

    /// <summary>Ends them at once: each fails with <see cref="LuaStateUnavailableException"/>.</summary>
    Cancel,
}

/// <summary>How a hosted Lua state is set up; plain properties, so they bind from configuration.</summary>
public sealed class LuaStateOptions
{
    /// <summary>Folders <c>require</c> looks in (<c>package.path</c> becomes <c>folder/?.lua;folder/?/init.lua</c> for each, nothing else).</summary>
    public IList<string> ScriptFolders { get; init; } = [];

    /// <summary>
    /// Scripts run at start, in order: a path, or a name looked up in <see cref="ScriptFolders"/>
    /// (first folder that has it). An error fails the start with Lua's message and traceback.
    /// </summary>
    public IList<string> StartupScripts { get; init; } = [];

    /// <summary>How long each start-up script may run; <see cref="Timeout.InfiniteTimeSpan"/>: no limit. Past it the start fails.</summary>
    public TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Which standard libraries the state opens; <see cref="LuaLibraries.All"/> by default.</summary>
    public LuaLibraries Libraries { get; set; } = LuaLibraries.All;

    /// <summary>How long a call may take, from <c>CallAsync</c> to the answer, when the call names no timeout; null: no limit.</summary>
    public TimeSpan? DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Lua-thread time a call may use (the sum of its slices between yields; time spent
    /// awaiting .NET does not count), when the call names none; null: no limit. A call over
    /// it fails with <see cref="LuaBudgetExceededException"/> and the state stays usable.
    /// </summary>
    public TimeSpan? CallBudget { get; set; }

    /// <summary>Lua memory of the state (as <c>collectgarbage("count")</c> counts it) above which the running call fails; null: no limit.</summary>
    public long? MemoryLimitBytes { get; set; }

    /// <summary>The bound of the state's DSS queue (calls waiting for the Lua thread); null: unbounded.</summary>
    public int? QueueCapacity { get; set; }

    /// <summary>What a call does when the bounded queue is full: wait for room (within its timeout), or fail at once.</summary>
    public QueueOverflow QueueOverflow { get; set; } = QueueOverflow.Block;

    /// <summary>What stop does with unfinished calls.</summary>
    public LuaStopMode StopMode { get; set; } = LuaStopMode.Drain;

    /// <summary>How long stop waits for calls before it ends them (a running script included) and closes the state.</summary>
    public TimeSpan StopDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a call may run on the caller's own thread while the state is idle (its thread
    /// sleeps and nothing is queued): the answer then comes with no thread hop, as with a
    /// KeraLua state behind a lock (in the HTTP benchmark a pool of 2 served 77-92% of the
    /// no-Lua ceiling's requests per second, measured beside it; 45% without, in an earlier run). A call that finds the state busy is queued for the
    /// state's thread, and one that awaits an async .NET function goes on there. Either way
    /// one call at a time runs Lua in a state, and the outcomes, budgets, timeout and
    /// cancellation are the same.
    /// The price: <c>CallAsync</c> then returns only once the Lua part it runs is over, so a
    /// long script holds its caller's thread for as long as it runs (at most the
    /// <see cref="CallBudget"/>, and the call's timeout ends it too); a synchronous .NET
    /// function exported to Lua may run on the caller's thread. For short scripts with a
    /// budget, as request handlers have. Off by default: every call runs on the state's thread.
    /// </summary>
    public bool RunCallsOnCallerThread { get; set; }

    /// <summary>
    /// How long the state's thread spins for the next delivery before it sleeps, after it ran
    /// what was queued: one that follows within it is taken without a wake-up (a single
    /// caller's p50 went from 20.5 to 2.4 µs with it on a 2-core machine). Costs at most this
    /// much CPU after each burst, nothing while idle. With <see cref="RunCallsOnCallerThread"/>
    /// the state is free to callers while it spins. <see cref="TimeSpan.Zero"/>: sleep at once.
    /// </summary>
    public TimeSpan SpinBeforeSleep { get; set; } = TimeSpan.FromMicroseconds(30);

    /// <summary>The .NET functions Lua may call.</summary>
    public LuaExports Exports { get; init; } = new();
}

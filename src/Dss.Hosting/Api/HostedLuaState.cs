using Akka.Actor;
using DarkSideSync.Hosting.State;

namespace DarkSideSync.Hosting;

/// <summary>
/// One Lua 5.4 state on a dedicated OS thread of its own, with DSS running in it: .NET code on
/// any thread calls its Lua functions (<see cref="CallAsync{TResult}"/>), Lua calls the .NET
/// functions of <see cref="LuaStateOptions.Exports"/>, and the thread sleeps while there is
/// nothing to do. Thread-safe.
/// </summary>
public sealed class HostedLuaState : IAsyncDisposable
{
    private readonly LuaStateThread _thread;

    private HostedLuaState(LuaStateThread thread) => _thread = thread;

    /// <summary>The name given at start (in thread names, logs and exceptions).</summary>
    public string Name => _thread.Name;

    /// <summary>
    /// Starts a state: opens the libraries, loads darksidesync, sets <c>package.path</c>, runs the
    /// start-up scripts, then serves calls. Fails with <see cref="LuaStartupException"/> (Lua's
    /// message and traceback) when a start-up script fails.
    /// </summary>
    /// <remarks>
    /// A start-up script that runs longer than <see cref="LuaStateOptions.StartupTimeout"/>, or
    /// while <paramref name="cancellationToken"/> is cancelled, is ended and fails the start.
    /// </remarks>
    public static Task<HostedLuaState> StartAsync(ActorSystem system, LuaStateOptions options, string name = "lua",
        CancellationToken cancellationToken = default) =>
        StartAsync(system, options, name, pool: null, cancellationToken);

    /// <summary>As the public start; <paramref name="pool"/> names the pool the state serves (its metrics' pool tag).</summary>
    internal static async Task<HostedLuaState> StartAsync(ActorSystem system, LuaStateOptions options, string name, string? pool,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        var thread = new LuaStateThread(system, options, name, pool);
        await thread.StartAsync(cancellationToken).ConfigureAwait(false);
        return new HostedLuaState(thread);
    }

    /// <summary>
    /// Calls the Lua function at <paramref name="path"/> (a global, or a field of a loaded module
    /// or global table: <c>"pricing.price"</c>) with <paramref name="arguments"/>, in a coroutine
    /// of its own, and converts its results to <typeparamref name="TResult"/> (a tuple or an
    /// array for several). Fails with <see cref="LuaScriptException"/> when Lua raises,
    /// <see cref="LuaBudgetExceededException"/> past a budget, <see cref="LuaCallTimeoutException"/>
    /// after <paramref name="timeout"/> (default <see cref="LuaStateOptions.DefaultTimeout"/>),
    /// <see cref="OperationCanceledException"/> when the token is cancelled,
    /// <see cref="LuaStateUnavailableException"/> when the state cannot take it or stopped, and
    /// <see cref="LuaConversionException"/> for a value that does not convert. A late answer is discarded.
    /// </summary>
    public Task<TResult> CallAsync<TResult>(string path, object?[]? arguments = null, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default, TimeSpan? budget = null) =>
        _thread.CallAsync<TResult>(path, arguments, timeout, budget, cancellationToken);

    /// <summary>As <see cref="CallAsync{TResult}"/>, for a function whose results do not matter.</summary>
    public Task CallAsync(string path, params object?[] arguments) =>
        _thread.CallAsync<object?>(path, arguments, null, null, CancellationToken.None);

    /// <summary>Calls accepted whose caller has no answer yet, from any route (a pool's least-busy routing).</summary>
    internal int Outstanding => _thread.Outstanding;

    /// <summary>Calls the state still tracks (running, queued, or awaiting .NET); for tests of its bookkeeping.</summary>
    internal int TrackedCalls => _thread.Calls.Count;

    /// <summary>The state's DSS figures now (queue, deliveries, refusals...), from any thread.</summary>
    public DssStats Stats => _thread.Utility.Stats;

    /// <summary>Completes when the state's thread ended (after a stop, or a failure of its loop).</summary>
    public Task Stopped => _thread.Exited;

    /// <summary>
    /// The graceful stop (<see cref="LuaStateOptions.StopMode"/>, <see cref="LuaStateOptions.StopDeadline"/>):
    /// no new calls; the outstanding ones finish or end; the state closes. Bounded by the deadline.
    /// </summary>
    public Task StopAsync() => _thread.StopAsync();

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}

using Akka.Actor;
using DarkSideSync.Hosting.Pool.Internal;

namespace DarkSideSync.Hosting;

/// <summary>
/// A pool of hosted Lua states with the same scripts, each on its own thread with its own DSS,
/// supervised by an actor (<see cref="Supervisor"/>: one child per state, replaced with back-off
/// when it dies). .NET code calls through <see cref="CallAsync{TResult}"/>, straight to a state;
/// actors send <see cref="LuaCall"/> to the supervisor. Thread-safe.
/// </summary>
public sealed class LuaPool : ILuaPool, IAsyncDisposable
{
    private readonly PoolMembers _members;
    private readonly LuaPoolOptions _options;

    private LuaPool(IActorRef supervisor, PoolMembers members, LuaPoolOptions options, string name)
    {
        Supervisor = supervisor;
        _members = members;
        _options = options;
        Name = name;
    }

    public string Name { get; }

    /// <summary>The pool's supervisor actor: send it <see cref="LuaCall"/>, <see cref="ReloadLuaPool"/>, <see cref="StopLuaPool"/>.</summary>
    public IActorRef Supervisor { get; }

    /// <summary>How many states the pool has (running or being replaced).</summary>
    public int Size => _members.Size;

    /// <summary>Starts the pool under <paramref name="system"/> (a top-level actor named <paramref name="name"/>); completes when every state runs, or fails with the first start-up error.</summary>
    public static async Task<LuaPool> StartAsync(ActorSystem system, LuaPoolOptions options, string name = "lua-pool")
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Size, 1);
        var members = new PoolMembers(options.Size);
        var supervisor = system.ActorOf(Props(options, members, name), name);
        await members.Ready.Task.ConfigureAwait(false);
        return new LuaPool(supervisor, members, options, name);
    }

    internal static Props Props(LuaPoolOptions options, PoolMembers members, string name) =>
        Akka.Actor.Props.Create(() => new LuaPoolSupervisorActor(options, members, name));

    /// <summary>
    /// As <see cref="HostedLuaState.CallAsync{TResult}"/>, on one of the pool's states: the one
    /// <paramref name="key"/> maps to (always the same for a key), or the one the routing picks.
    /// Fails with <see cref="LuaStateUnavailableException"/> when that state is being replaced.
    /// </summary>
    /// <remarks>
    /// A call refused by a state that a reload (or a replacement) has just swapped out is tried
    /// once more on the state now in its slot: Lua never saw it, so it cannot run twice.
    /// </remarks>
    public async Task<TResult> CallAsync<TResult>(string path, object?[]? arguments = null, string? key = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default, TimeSpan? budget = null)
    {
        var (index, state) = Route(path, key);
        try
        {
            return await state.CallAsync<TResult>(path, arguments, timeout, cancellationToken, budget).ConfigureAwait(false);
        }
        catch (LuaStateUnavailableException refused) when (!refused.ReachedLua && _members[index] is { } now && now != state)
        {
            return await now.CallAsync<TResult>(path, arguments, timeout, cancellationToken, budget).ConfigureAwait(false);
        }
    }

    private (int Index, HostedLuaState State) Route(string path, string? key)
    {
        int index = key is null ? _members.Pick(_options.Routing) : _members.IndexOf(key);
        if (index >= 0 && _members[index] is { } state)
        {
            return (index, state);
        }
        Diagnostics.LuaMetrics.Refusals.Add(1, new KeyValuePair<string, object?>("pool", Name));
        throw new LuaStateUnavailableException(
                $"{Name}: {(key is null ? "no state is running" : $"the state of key '{key}' is not running")} now (being replaced or stopped); {path} was not called.");
    }

    /// <summary>The DSS figures of each state (null for one being replaced).</summary>
    public IReadOnlyList<DssStats?> Stats => Enumerable.Range(0, _members.Size).Select(i => _members[i]?.Stats).ToArray();

    /// <summary>Loads the scripts anew in every state, one state at a time: a fresh state replaces each, and the old one finishes its calls.</summary>
    public Task ReloadAsync(TimeSpan? timeout = null) =>
        Supervisor.Ask<LuaPoolReloaded>(ReloadLuaPool.Instance, timeout ?? TimeSpan.FromMinutes(1));

    /// <summary>How long <see cref="StopAsync"/> lets calls finish before it ends them (the states' <see cref="LuaStateOptions.StopDeadline"/>).</summary>
    public TimeSpan StopDeadline => _options.State.StopDeadline;

    /// <summary>Stops every state gracefully, then the supervisor.</summary>
    public async Task StopAsync()
    {
        var deadline = _options.State.StopDeadline + TimeSpan.FromSeconds(10);
        try
        {
            // A supervisor that is gone already (stopped before, or its ActorSystem terminated)
            // never answers: its termination ends the wait instead of the ask's timeout.
            using var watching = new CancellationTokenSource(deadline);
            var gone = Supervisor.WatchAsync(watching.Token);
            var stopped = Supervisor.Ask<LuaPoolStopped>(StopLuaPool.Instance, deadline);
            await Task.WhenAny(stopped, gone).ConfigureAwait(false);
            await watching.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or OperationCanceledException)
        {
            // Stopped already (or the actor system is gone): nothing left to stop.
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}

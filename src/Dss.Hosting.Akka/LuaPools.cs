using System.Collections.Concurrent;
using Akka.Actor;

namespace DarkSideSync.Hosting;

/// <summary>
/// The pools <c>WithLuaPool</c> started in an ActorSystem, by name: an Akka extension
/// (<c>LuaPools.For(system)</c>), also what <c>AddLuaPools()</c> injects. Thread-safe.
/// </summary>
public sealed class LuaPools : IExtension
{
    // One entry per name asked for or started; completed when the pool runs, failed when its start failed.
    private readonly ConcurrentDictionary<string, TaskCompletionSource<LuaPool>> _pools = new(StringComparer.Ordinal);

    // The health thresholds each started pool was configured with.
    private readonly ConcurrentDictionary<string, LuaPoolHealthOptions> _health = new(StringComparer.Ordinal);

    /// <summary>The extension of <paramref name="system"/>.</summary>
    public static LuaPools For(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.WithExtension<LuaPools, LuaPoolsExtension>();
    }

    /// <summary>The names of the pools that run now, in no particular order.</summary>
    public IReadOnlyCollection<string> Names =>
        _pools.Where(p => p.Value.Task.IsCompletedSuccessfully).Select(p => p.Key).ToArray();

    /// <summary>The running pool <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No pool of that name has started (the message lists those that have).</exception>
    public ILuaPool Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_pools.TryGetValue(name, out var pool) && pool.Task.IsCompletedSuccessfully)
        {
            return pool.Task.Result;
        }
        string started = Names.Count == 0 ? "none" : string.Join(", ", Names.Order(StringComparer.Ordinal));
        throw new InvalidOperationException(
            $"No Lua pool named '{name}' has started (started: {started}). Pools start with the ActorSystem " +
            "(builder.WithLuaPool(...)); code that runs before the Akka hosted service started awaits GetAsync instead.");
    }

    /// <summary>The pool <paramref name="name"/> once it runs; fails with its start-up error, or when the token is cancelled.</summary>
    public async Task<ILuaPool> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return await Entry(name).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private int _hostStopTaken; // 1 once a pool registered the CoordinatedShutdown task that stops the host

    /// <summary>True for the first caller only: the host-stop task is registered once per ActorSystem.</summary>
    internal bool TakeHostStopTask() => Interlocked.Exchange(ref _hostStopTaken, 1) == 0;

    internal void Started(LuaPool pool, LuaPoolHealthOptions health)
    {
        _health[pool.Name] = health;
        Entry(pool.Name).TrySetResult(pool);
    }

    /// <summary>The running pool <paramref name="name"/> and its health thresholds, if it started.</summary>
    internal bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LuaPool? pool,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LuaPoolHealthOptions? health)
    {
        pool = _pools.TryGetValue(name, out var entry) && entry.Task.IsCompletedSuccessfully ? entry.Task.Result : null;
        health = pool is null ? null : _health.GetValueOrDefault(name);
        return pool is not null && health is not null;
    }

    internal void Failed(string name, Exception error) => Entry(name).TrySetException(error);

    private TaskCompletionSource<LuaPool> Entry(string name) =>
        _pools.GetOrAdd(name, static _ => new TaskCompletionSource<LuaPool>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Akka's extension id of <see cref="LuaPools"/>.</summary>
public sealed class LuaPoolsExtension : ExtensionIdProvider<LuaPools>
{
    public override LuaPools CreateExtension(ExtendedActorSystem system) => new();
}

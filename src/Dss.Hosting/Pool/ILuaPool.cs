using Akka.Actor;

namespace DarkSideSync.Hosting;

/// <summary>
/// What code that calls a pool needs (ASP.NET Core handlers, services), so it can be injected
/// by name (<c>[FromKeyedServices("pricing")] ILuaPool</c>, see Dss.Hosting.Akka). Implemented
/// by <see cref="LuaPool"/>; thread-safe.
/// </summary>
public interface ILuaPool
{
    /// <summary>The pool's name (its supervisor's actor name, the <c>pool</c> tag of its metrics).</summary>
    string Name { get; }

    /// <summary>How many states the pool has (running or being replaced).</summary>
    int Size { get; }

    /// <summary>The pool's supervisor actor: send it <see cref="LuaCall"/>, <see cref="ReloadLuaPool"/>, <see cref="StopLuaPool"/>.</summary>
    IActorRef Supervisor { get; }

    /// <summary>The DSS figures of each state, by index (null for one being replaced, or after the stop).</summary>
    IReadOnlyList<DssStats?> Stats { get; }

    /// <inheritdoc cref="LuaPool.CallAsync{TResult}"/>
    Task<TResult> CallAsync<TResult>(string path, object?[]? arguments = null, string? key = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default, TimeSpan? budget = null);

    /// <inheritdoc cref="LuaPool.ReloadAsync"/>
    Task ReloadAsync(TimeSpan? timeout = null);
}

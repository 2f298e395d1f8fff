using Akka.Actor;

namespace DarkSideSync.Hosting.Internal;

/// <summary>
/// The <see cref="ILuaPool"/> the container hands out: the pool itself belongs to the
/// ActorSystem (CoordinatedShutdown stops it), and a container disposes what its factories
/// made, so it gets this non-owning view instead.
/// </summary>
internal sealed class LuaPoolHandle(ILuaPool pool) : ILuaPool
{
    public ILuaPool Pool { get; } = pool;

    public string Name => Pool.Name;

    public int Size => Pool.Size;

    public IActorRef Supervisor => Pool.Supervisor;

    public IReadOnlyList<DssStats?> Stats => Pool.Stats;

    public Task<TResult> CallAsync<TResult>(string path, object?[]? arguments = null, string? key = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default, TimeSpan? budget = null) =>
        Pool.CallAsync<TResult>(path, arguments, key, timeout, cancellationToken, budget);

    public Task ReloadAsync(TimeSpan? timeout = null) => Pool.ReloadAsync(timeout);
}

namespace DarkSideSync.Hosting;

/// <summary>
/// Calls the Lua function at <paramref name="Path"/> in a pool (send it to the pool's
/// supervisor, <see cref="LuaPool.Supervisor"/>): answered with <see cref="LuaResult"/>, or
/// <c>Status.Failure</c> carrying the exception <see cref="HostedLuaState.CallAsync{TResult}"/>
/// would throw. Plain data: arguments are values the codec converts (numbers, strings, lists,
/// dictionaries, records).
/// </summary>
/// <param name="Key">Calls with the same key reach the same state; null: the pool's routing decides.</param>
/// <param name="Timeout">Null: the states' default timeout.</param>
/// <param name="Budget">The call's Lua-thread time budget; null: the states' <see cref="LuaStateOptions.CallBudget"/>.</param>
public sealed record LuaCall(string Path, object?[] Arguments, string? Key = null, TimeSpan? Timeout = null, TimeSpan? Budget = null);

/// <summary>What the Lua function returned, each value converted to its natural .NET type.</summary>
public sealed record LuaResult(object?[] Values);

/// <summary>Replaces every state of the pool by a fresh one that loads the scripts anew, one at a time, without dropping a call; answered with <see cref="LuaPoolReloaded"/>.</summary>
public sealed record ReloadLuaPool
{
    public static readonly ReloadLuaPool Instance = new();

    private ReloadLuaPool()
    {
    }
}

public sealed record LuaPoolReloaded
{
    public static readonly LuaPoolReloaded Instance = new();

    private LuaPoolReloaded()
    {
    }
}

/// <summary>Stops every state gracefully (see <see cref="LuaStateOptions.StopMode"/>), then the pool; answered with <see cref="LuaPoolStopped"/>.</summary>
public sealed record StopLuaPool
{
    public static readonly StopLuaPool Instance = new();

    private StopLuaPool()
    {
    }
}

public sealed record LuaPoolStopped
{
    public static readonly LuaPoolStopped Instance = new();

    private LuaPoolStopped()
    {
    }
}

using DarkSideSync.Engine;

namespace DarkSideSync;

/// <summary>
/// While it is not disposed, the thread that made it (<see cref="DssUtility.EnterLuaThread"/>)
/// counts as its Lua state's Lua thread: a delivery from it that would wait is refused.
/// </summary>
public readonly struct DssLuaThreadScope : IDisposable
{
    private readonly LuaThreadWatch? _watch;

    internal DssLuaThreadScope(LuaThreadWatch watch) => _watch = watch;

    /// <summary>Leaves the scope (on the thread that entered it); a default scope does nothing.</summary>
    public void Dispose() => _watch?.LeaveHeld();
}

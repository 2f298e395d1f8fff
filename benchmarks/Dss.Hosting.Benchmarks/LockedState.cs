using KeraLua;

namespace DarkSideSync.Hosting.Benchmarks;

/// <summary>
/// The baseline: what a user writes without the hosting layer, one KeraLua state behind a
/// lock, called on the caller's own thread (no hop to a Lua thread, no coroutine, no codec).
/// </summary>
internal sealed class LockedState : IDisposable
{
    private readonly Lua _lua = new();
    private readonly Lock _gate = new();

    public LockedState(string script)
    {
        if (_lua.DoString(script))
        {
            throw new InvalidOperationException(_lua.ToString(-1));
        }
    }

    public long Add(long a, long b)
    {
        lock (_gate)
        {
            _lua.GetGlobal("add");
            _lua.PushInteger(a);
            _lua.PushInteger(b);
            if (_lua.PCall(2, 1, 0) != LuaStatus.OK)
            {
                string message = _lua.ToString(-1);
                _lua.Pop(1);
                throw new InvalidOperationException(message);
            }
            long sum = _lua.ToInteger(-1);
            _lua.Pop(1);
            return sum;
        }
    }

    public void Dispose() => _lua.Dispose();
}

using KeraLua;

namespace DarkSideSync.Http.Benchmarks;

/// <summary>
/// The baseline users write today: one KeraLua state with the same pricing.lua, behind a lock,
/// called on the request's own thread (no hop to a Lua thread, no coroutine, no codec).
/// </summary>
internal sealed class LockedPricing : IDisposable
{
    private readonly Lua _lua = new();
    private readonly Lock _gate = new();

    public LockedPricing(string script)
    {
        if (_lua.DoFile(script))
        {
            throw new InvalidOperationException(_lua.ToString(-1));
        }
    }

    /// <summary>pricing.price(item, qty): the body, or null and the message of an unknown item.</summary>
    public (string? Body, string? Message) Price(string item, int qty)
    {
        lock (_gate)
        {
            _lua.GetGlobal("pricing");
            _lua.GetField(-1, "price");
            _lua.PushString(item);
            _lua.PushInteger(qty);
            if (_lua.PCall(2, 3, 0) != LuaStatus.OK)
            {
                string error = _lua.ToString(-1);
                _lua.SetTop(0);
                throw new InvalidOperationException(error);
            }
            var result = _lua.IsString(-3) ? (_lua.ToString(-3), (string?)null) : (null, _lua.ToString(-1));
            _lua.SetTop(0);
            return result;
        }
    }

    public void Dispose() => _lua.Dispose();
}

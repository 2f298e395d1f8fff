using DarkSideSync.LuaSide;

using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

/// <summary>A non-blocking delivery of a .NET utility: its data, its decode hook and an optional "dropped" hook.</summary>
internal sealed class ManagedDelivery<T>(Registration owner, T data, LuaDecode<T> decode, Action<T, CancelReason>? dropped) : Delivery(owner)
{
    public override bool WaitsForAnswer => false;

    public override bool TryDecode(lua_State L, out int pushed)
    {
        pushed = decode(new LuaStack(L), data);
        return true;
    }

    public override bool TryAnswer(lua_State L, bool garbage, out int results)
    {
        results = 0;
        return true;
    }

    // The counterpart of decode(NULL): the utility may release what the data holds (a Lua reference, say).
    public override void CancelQueued(CancelReason reason) => RunDroppedHook(dropped, data, reason);

    public override void CancelAnswer(CancelReason reason)
    {
    }

    public override void Fail(Exception error)
    {
        // The producer went on after delivering; the engine logs the failure.
    }

    public override void Release()
    {
    }
}

using DarkSideSync.Utilities;
using DarkSideSync.LuaSide;

namespace DarkSideSync.Engine.Deliveries;

/// <summary>A non-blocking delivery of a .NET utility: its data and its decode hook.</summary>
internal sealed class ManagedDelivery<T>(Registration owner, T data, LuaDecode<T> decode) : Delivery(owner)
{
    public override bool WaitsForAnswer => false;

    public override int Decode(lua_State L) => decode(new LuaStack(L), data);

    public override int Answer(lua_State L, bool garbage) => 0;

    public override void CancelQueued(CancelReason reason)
    {
        // Nothing was handed out; the data is garbage collected.
    }

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

using DarkSideSync.Engine;
using DarkSideSync.Queueing;

namespace DarkSideSync.Deliveries;

/// <summary>A non-blocking delivery of a .NET utility: its data, its decode hook and an optional "dropped" hook. Recycled.</summary>
internal sealed class ManagedDelivery<T> : Delivery
{
    private static readonly DeliveryPool Recycled = DeliveryPool.Of<ManagedDelivery<T>>();

    private T _data = default!;
    private LuaDecode<T> _decode = null!;
    private Action<T, CancelReason>? _dropped;

    private ManagedDelivery(Registration owner)
        : base(owner) => Pool = Recycled;

    /// <summary>Producer thread: a delivery of <paramref name="data"/>, on a recycled node when there is one.</summary>
    public static ManagedDelivery<T> Create(Registration owner, T data, LuaDecode<T> decode, Action<T, CancelReason>? dropped)
    {
        ManagedDelivery<T> delivery;
        var producer = ProducerThread.Current;
        if (Recycled.TryRent(producer) is ManagedDelivery<T> reused)
        {
            reused.Reuse(owner, producer);
            delivery = reused;
        }
        else
        {
            delivery = new ManagedDelivery<T>(owner);
        }
        delivery._data = data;
        delivery._decode = decode;
        delivery._dropped = dropped;
        return delivery;
    }

    public override bool WaitsForAnswer => false;

    public override bool TryDecode(lua_State L, out int pushed)
    {
        pushed = _decode(new LuaStack(L), _data);
        return true;
    }

    public override bool TryAnswer(lua_State L, bool garbage, out int results)
    {
        results = 0;
        return true;
    }

    // The counterpart of decode(NULL): the utility may release what the data holds (a Lua reference, say).
    public override void CancelQueued(CancelReason reason) => RunDroppedHook(_dropped, _data, reason);

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

    public override void Clear()
    {
        _data = default!;
        _decode = null!;
        _dropped = null;
    }
}

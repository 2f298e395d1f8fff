using DarkSideSync.Utilities;

namespace DarkSideSync.Engine.Deliveries;

/// <summary>A delivery of a C utility: its decode and return function pointers and its pData.</summary>
internal sealed unsafe class NativeDelivery : Delivery
{
    private readonly delegate* unmanaged[Cdecl]<lua_State, nint, nint, int> _decode;
    private readonly delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int> _return;
    private readonly nint _pData;
    private readonly ManualResetEventSlim? _released; // only for blocking deliveries

    public NativeDelivery(
        Registration owner,
        delegate* unmanaged[Cdecl]<lua_State, nint, nint, int> decode,
        delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int> ret,
        nint pData)
        : base(owner)
    {
        _decode = decode;
        _return = ret;
        _pData = pData;
        if (ret != null)
        {
            _released = new ManualResetEventSlim(false);
        }
    }

    public override bool WaitsForAnswer => _return != null;

    public override int Decode(lua_State L) => _decode(L, _pData, Owner.UtilId);

    public override int Answer(lua_State L, bool garbage) => _return(L, _pData, Owner.UtilId, garbage ? 1 : 0);

    public override void CancelQueued(CancelReason reason) => _decode(0, _pData, Owner.UtilId);

    public override void CancelAnswer(CancelReason reason) => _return(0, _pData, Owner.UtilId, 0);

    public override void Fail(Exception error)
    {
        // C hooks report no exceptions; nothing to tell the producer beyond releasing it.
    }

    public override void Release() => _released?.Set();

    /// <summary>The producer's thread blocks here until <see cref="Release"/>.</summary>
    public void WaitUntilReleased()
    {
        _released!.Wait();
        _released.Dispose();
    }
}

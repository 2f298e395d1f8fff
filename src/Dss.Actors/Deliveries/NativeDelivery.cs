using DarkSideSync.Interop;
using DarkSideSync.Queueing;
using static DarkSideSync.Interop.LuaNative;

using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

/// <summary>
/// A delivery of a C utility: its decode and return function pointers and its pData.
/// Non-blocking ones are recycled; a blocking one is its producer's to wait on, and is not.
/// </summary>
internal sealed unsafe class NativeDelivery : Delivery
{
    private static readonly DeliveryPool Recycled = DeliveryPool.Of<NativeDelivery>();

    private delegate* unmanaged[Cdecl]<lua_State, nint, nint, int> _decode;
    private delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int> _return;
    private nint _pData;
    private readonly ManualResetEventSlim? _released; // only for blocking deliveries

    private NativeDelivery(Registration owner, bool blocking)
        : base(owner)
    {
        if (blocking)
        {
            _released = new ManualResetEventSlim(false);
        }
        else
        {
            Pool = Recycled;
        }
    }

    /// <summary>Producer thread: a delivery of pData; a non-blocking one on a recycled node when there is one.</summary>
    public static NativeDelivery Create(
        Registration owner,
        delegate* unmanaged[Cdecl]<lua_State, nint, nint, int> decode,
        delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int> ret,
        nint pData)
    {
        NativeDelivery delivery;
        var producer = ProducerThread.Current;
        if (ret == null && Recycled.TryRent(producer) is NativeDelivery reused)
        {
            reused.Reuse(owner, producer);
            delivery = reused;
        }
        else
        {
            delivery = new NativeDelivery(owner, blocking: ret != null);
        }
        delivery._decode = decode;
        delivery._return = ret;
        delivery._pData = pData;
        return delivery;
    }

    public override bool WaitsForAnswer => _return != null;

    // Through the C trampoline: a hook that raises a Lua error must not longjmp over this frame.
    public override bool TryDecode(lua_State L, out int pushed)
    {
        int status = HookCalls.dss_call_decode(L, (nint)_decode, _pData, Owner.UtilId);
        // The trampoline kept only what decode claimed, so every value above the caller's top
        // is decode's: the caller's clamp to those counts them (no gettop here, on the hot path).
        pushed = int.MaxValue;
        return status == LUA_OK;
    }

    /// <summary>For the dispatch loop, which calls decode itself (in C): the hook and its arguments.</summary>
    public void HandOver(out nint decode, out nint pData, out nint utilId)
    {
        decode = (nint)_decode;
        pData = _pData;
        utilId = Owner.UtilId;
    }

    public override bool TryAnswer(lua_State L, bool garbage, out int results)
    {
        int status = HookCalls.dss_call_return(L, (nint)_return, _pData, Owner.UtilId, garbage ? 1 : 0, lua_gettop(L));
        results = lua_gettop(L);
        return status == LUA_OK;
    }

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

    /// <summary>
    /// The producer's thread (deliver_ex) blocks until <see cref="Release"/> or until
    /// <paramref name="timeoutMs"/> passed (-1: no limit). Returns <paramref name="handedOver"/>
    /// when the delivery ended (answered, decoded to nothing, cancelled), TIMED_OUT when the
    /// time ran out first: then, before this returns, the utility was called once with
    /// <c>L == NULL</c> for it, on this thread, under its gate — decode if Lua never got it,
    /// return if Lua holds its waitingthread_callback (which then does nothing).
    /// </summary>
    public DssStatus WaitUntilReleased(int timeoutMs, DssStatus handedOver)
    {
        if (!_released!.Wait(timeoutMs))
        {
            // The gate: a hook of this utility that runs now is waited for (hooks never overlap),
            // and whoever ends the delivery does so under it. This thread holds no gate (a
            // delivery that would wait from inside a hook is refused before it is queued).
            using (Owner.Gate.Enter())
            {
                if (TryMove(DeliveryState.Queued, DeliveryState.Cancelled))
                {
                    Owner.Withdrawn();
                    CancelQueued(CancelReason.Timeout);
                    handedOver = DssStatus.TimedOut;
                }
                else if (TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Cancelled))
                {
                    Owner.StopAwaiting(this);
                    Owner.Engine.Statistics.Cancelled();
                    CancelAnswer(CancelReason.Timeout);
                    handedOver = DssStatus.TimedOut;
                }
                // Otherwise it ended meanwhile, and was released under this gate: the hand-over status stands.
            }
        }
        _released.Dispose();
        return handedOver;
    }
}

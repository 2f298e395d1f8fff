using DarkSideSync.Interop;
using static DarkSideSync.Interop.LuaNative;

using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

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

    // Through the C trampoline: a hook that raises a Lua error must not longjmp over this frame.
    public override bool TryDecode(lua_State L, out int pushed)
    {
        int status = HookCalls.dss_call_decode(L, (nint)_decode, _pData, Owner.UtilId);
        // The trampoline kept only what decode claimed, so every value above the caller's top
        // is decode's: the caller's clamp to those counts them (no gettop here, on the hot path).
        pushed = int.MaxValue;
        return status == LUA_OK;
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
                    Owner.Engine.Mailbox.Withdrawn();
                    CancelQueued(CancelReason.Timeout);
                    handedOver = DssStatus.TimedOut;
                }
                else if (TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Cancelled))
                {
                    Owner.StopAwaiting(this);
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

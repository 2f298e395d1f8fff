using DarkSideSync.Interop;
using DarkSideSync.LuaSide;

using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

/// <summary>
/// A blocking delivery of a .NET utility: the producer awaits <see cref="Completion"/> instead
/// of blocking a thread. It ends with Lua's answer, a cancellation, a timeout or a failure.
/// </summary>
internal sealed class ManagedRequest<T, TResult> : Delivery
{
    private readonly T _data;
    private readonly LuaDecode<T> _decode;
    private readonly LuaReturn<TResult> _return;
    private readonly Action<T, CancelReason>? _dropped;
    // Continuations run on the thread pool, never on the Lua thread inside a hook.
    private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManagedRequest(Registration owner, T data, LuaDecode<T> decode, LuaReturn<TResult> ret, Action<T, CancelReason>? dropped)
        : base(owner)
    {
        _data = data;
        _decode = decode;
        _return = ret;
        _dropped = dropped;
    }

    public Task<TResult> Completion => _completion.Task;

    public override bool WaitsForAnswer => true;

    /// <summary>
    /// Arms the producer's timeout and token. Call after the delivery was queued: an abort
    /// before Lua decoded it withdraws it from the queue, later ones only discard the answer.
    /// </summary>
    public void AbortOn(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (timeout is null && !cancellationToken.CanBeCanceled)
        {
            return;
        }
        var aborter = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } t)
        {
            aborter.CancelAfter(t);
        }
        aborter.Token.UnsafeRegister(
            static (state, _) =>
            {
                var (request, token) = ((ManagedRequest<T, TResult>, CancellationToken))state!;
                request.Abort(token.IsCancellationRequested ? CancelReason.CallerCancelled : CancelReason.Timeout);
            },
            (this, cancellationToken));
        _completion.Task.ContinueWith(static (_, s) => ((CancellationTokenSource)s!).Dispose(), aborter, TaskScheduler.Default);
    }

    // Under the owner's gate, so the Lua thread is never halfway through a hook of this delivery:
    // a queued delivery is withdrawn and never decoded; one Lua holds is ended, so its return
    // hook never runs and the callback Lua holds becomes a no-op.
    private void Abort(CancelReason reason)
    {
        bool reachedLua;
        using (Owner.Gate.Enter())
        {
            if (TryMove(DeliveryState.Queued, DeliveryState.Cancelled))
            {
                Owner.Withdrawn();
                RunDroppedHook(_dropped, _data, reason);
                reachedLua = false;
            }
            else if (TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Cancelled))
            {
                Owner.StopAwaiting(this);
                Owner.Engine.Statistics.Cancelled();
                reachedLua = true;
            }
            else
            {
                return; // completed or cancelled already
            }
        }
        _completion.TrySetException(new DssDeliveryCanceledException(reason, reachedLua));
    }

    public override bool TryDecode(lua_State L, out int pushed)
    {
        pushed = _decode(new LuaStack(L), _data);
        return true;
    }

    // What the hook pushes on top of Lua's answer goes back to Lua as args[1]'s results.
    public override bool TryAnswer(lua_State L, bool garbage, out int results)
    {
        int answerTop = LuaNative.lua_gettop(L);
        _completion.TrySetResult(_return(new LuaStack(L), garbage));
        results = LuaNative.lua_gettop(L) - answerTop;
        return true;
    }

    public override void CancelQueued(CancelReason reason)
    {
        RunDroppedHook(_dropped, _data, reason);
        _completion.TrySetException(new DssDeliveryCanceledException(reason, reachedLua: false));
    }

    public override void CancelAnswer(CancelReason reason) =>
        _completion.TrySetException(new DssDeliveryCanceledException(reason, reachedLua: true));

    public override void Fail(Exception error) =>
        _completion.TrySetException(new DssUtilityException("A hook of the utility threw; the delivery ended.", error));

    // Decode pushed nothing: the delivery is complete without an answer from Lua.
    public override void Release() => _completion.TrySetResult(default!);
}

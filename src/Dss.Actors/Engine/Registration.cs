using Debug = System.Diagnostics.Debug;
using Akka.Actor;
using Akka.Event;
using DarkSideSync.Queueing;
using DarkSideSync.Deliveries;

namespace DarkSideSync.Engine;

/// <summary>
/// One utility registered with one Lua state: the pair (state, libid) and its utilid.
/// Owns the stop-utility sequence. Its actor (a child of the state's DssSupervisor) owns
/// the lifecycle around it.
/// </summary>
internal sealed class Registration
{
    private const int Registered = 0, Unregistering = 1, Unregistered = 2;

    private readonly Action _cancel;
    private readonly LinkedList<Delivery> _awaitingAnswer = new(); // guarded by Gate; in delivery order
    private readonly TaskCompletionSource _unregistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _phase;            // Registered → Unregistering → Unregistered, never back
    private int _cancelCalled;     // 1 once stop-DSS called the cancel hook: it is called at most once
    private readonly StripedCounter _producersInside = new(); // producer threads between the phase check and the post in Deliver

    public Registration(DssEngine engine, nint utilId, object libId, Action cancel)
    {
        Engine = engine;
        UtilId = utilId;
        LibId = libId;
        _cancel = cancel;
    }

    public DssEngine Engine { get; }

    public nint UtilId { get; }

    public object LibId { get; }

    /// <summary>
    /// Held by whoever runs this utility's hooks: the Lua thread while it decodes or answers,
    /// an unregistering thread while it cancels. So hooks never run concurrently, and an
    /// unregister sees every outstanding delivery in one consistent state.
    /// </summary>
    public HookGate Gate { get; } = new();

    /// <summary>This registration's child of the DssSupervisor (Nobody until it was adopted).</summary>
    public IActorRef Actor { get; set; } = ActorRefs.Nobody;

    public bool IsRegistered => Volatile.Read(ref _phase) == Registered;

    public Task WhenUnregistered => _unregistered.Task;

    /// <summary>Any thread. Queues <paramref name="delivery"/> unless the utility or DSS stopped, or a full bounded queue refuses it.</summary>
    public DssStatus Deliver(Delivery delivery) => Deliver(delivery, RoomWait.Never, blocksThread: false, out _);

    /// <summary>
    /// Any thread. Queues <paramref name="delivery"/> unless the utility or DSS stopped; a full
    /// bounded queue refuses it or (SUCCESS with a <paramref name="waiter"/>) lines it up for
    /// room, see <see cref="DssEngine.Post"/>. The wait itself is the caller's, after this returns.
    /// </summary>
    public DssStatus Deliver(Delivery delivery, RoomWait wait, bool blocksThread, out RoomWaiter? waiter)
    {
        waiter = null;
        int stripe = delivery.Stripe; // the producer's own: no thread-static read here
        _producersInside.Add(stripe, 1);
        try
        {
            // After the increment (a full fence): Unregister either sees this producer inside,
            // or this read sees its phase change.
            var status = Volatile.Read(ref _phase) != Registered
                ? DssStatus.InvalidUtilId
                : Engine.Post(delivery, wait, blocksThread, out waiter);
            if (!status.IsDelivered())
            {
                Engine.Statistics.Refused();
            }
            return status;
        }
        finally
        {
            _producersInside.Add(stripe, -1);
        }
    }

    /// <summary>Lua thread, <see cref="Gate"/> held: the delivery was decoded and now waits for Lua's answer.</summary>
    public bool TryAwaitAnswer(Delivery delivery)
    {
        Debug.Assert(Gate.IsHeldByCurrentThread);
        if (Volatile.Read(ref _phase) == Unregistered)
        {
            return false;
        }
        delivery.AwaitingNode = _awaitingAnswer.AddLast(delivery);
        Engine.Statistics.Waiting(+1);
        return true;
    }

    /// <summary><see cref="Gate"/> held: the delivery no longer waits for Lua's answer.</summary>
    public void StopAwaiting(Delivery delivery)
    {
        Debug.Assert(Gate.IsHeldByCurrentThread);
        if (delivery.AwaitingNode is { } node)
        {
            _awaitingAnswer.Remove(node);
            delivery.AwaitingNode = null;
            Engine.Statistics.Waiting(-1);
        }
    }

    /// <summary><see cref="Gate"/> held: a queued delivery of this utility was cancelled (moved from Queued): it no longer counts as queued.</summary>
    public void Withdrawn()
    {
        Debug.Assert(Gate.IsHeldByCurrentThread);
        Engine.Mailbox.Withdrawn();
        Engine.Statistics.Cancelled();
    }

    /// <summary>
    /// The stop-utility sequence. Any thread, any time, also from inside a hook. When it
    /// returns, DSS will never call this utility's hooks again and none of its producers is
    /// blocked: every outstanding delivery was cancelled in delivery order (those waiting for
    /// Lua's answer, then those queued) — except when called from inside a hook while another
    /// thread holds this utility's gate: then the cancelling is finished by whoever holds the
    /// gate (a second unregister) or by this thread once it has left its hook (the first).
    /// </summary>
    public DssStatus Unregister(CancelReason reason)
    {
        if (Interlocked.CompareExchange(ref _phase, Unregistering, Registered) != Registered)
        {
            // Another thread is unregistering: its caller may count on "when unregister returns,
            // nothing runs any more", so wait for it. Not from inside a hook (of this utility or
            // any other): the first unregister may be waiting for the gate this thread holds.
            if (!HookGate.AnyHeldByCurrentThread)
            {
                _unregistered.Task.Wait();
            }
            return DssStatus.InvalidUtilId;
        }
        // After the phase change: a producer checks the phase under the bound's lock before it
        // lines up for room, so every waiter of ours is refused here, its item never queued.
        Engine.Mailbox.Bound.Refuse(d => d.Owner == this, DssStatus.InvalidUtilId);
        var spin = new SpinWait();
        while (_producersInside.Sum != 0)
        {
            spin.SpinOnce();
        }
        // No new delivery of ours can enter the queue now.
        if (!Engine.IsRunning)
        {
            reason = CancelReason.DssStopped; // even when the utility's own cancel hook unregistered it
        }
        if (HookGate.AnyHeldByCurrentThread && !Gate.IsHeldByCurrentThread)
        {
            // From inside another utility's hook: waiting for this gate could close a cycle (its
            // holder may be in a hook of ours that unregisters that utility). Cancel now if the
            // gate is free, else once this thread holds no gate.
            if (Gate.TryEnter(out var scope))
            {
                using (scope)
                {
                    CancelOutstanding(reason);
                }
            }
            else
            {
                HookGate.WhenNoneHeld(() => CancelOutstandingUnderGate(reason));
            }
            return DssStatus.Success;
        }
        CancelOutstandingUnderGate(reason);
        return DssStatus.Success;
    }

    private void CancelOutstandingUnderGate(CancelReason reason)
    {
        using (Gate.Enter())
        {
            CancelOutstanding(reason);
        }
    }

    // Gate held: the second half of the stop-utility sequence.
    private void CancelOutstanding(CancelReason reason)
    {
        Debug.Assert(Gate.IsHeldByCurrentThread);
        Volatile.Write(ref _phase, Unregistered);
        foreach (var delivery in _awaitingAnswer)
        {
            delivery.AwaitingNode = null;
            // Every move out of AwaitingAnswer (an answer, an abort) takes the gate and leaves the list.
            bool moved = delivery.TryMove(DeliveryState.AwaitingAnswer, DeliveryState.Cancelled);
            Debug.Assert(moved, "a delivery in the awaiting list awaits its answer");
            if (moved)
            {
                Engine.Statistics.Waiting(-1);
                Engine.Statistics.Cancelled();
                delivery.CancelAnswer(reason);
                delivery.Release();
            }
        }
        _awaitingAnswer.Clear();
        foreach (var delivery in Engine.Mailbox.Snapshot())
        {
            if (delivery.Owner == this && delivery.TryMove(DeliveryState.Queued, DeliveryState.Cancelled))
            {
                Withdrawn();
                delivery.CancelQueued(reason);
                delivery.Release();
            }
        }
        // Done before the gate is left: work a hook deferred until then (a stop-DSS) may
        // wait for whoever waits for this unregister.
        Engine.Forget(this);
        _unregistered.TrySetResult();
    }

    /// <summary>
    /// Stop-DSS for this utility: ask it to stop (its cancel hook), and unregister it if the
    /// hook did not. Any thread except the Lua thread inside a hook.
    /// </summary>
    public void CancelAndUnregister()
    {
        if (!IsRegistered)
        {
            return; // stop-DSS unregistered it already (its supervisor answered too late)
        }
        CallCancelOnce();
        Unregister(CancelReason.DssStopped);
    }

    /// <summary>
    /// Stop-DSS past its stop-timeout (an older utility's cancel hook has not returned): the
    /// utility is still told to stop, its cancel hook called on the thread pool if nobody
    /// called it yet, but not waited for; DSS unregisters it at once.
    /// </summary>
    public void UnregisterAndCancelInBackground()
    {
        Unregister(CancelReason.DssStopped); // first: the cancel hook never overlaps its own L == NULL hooks
        if (Volatile.Read(ref _cancelCalled) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.CallCancelOnce(), this, preferLocal: false);
        }
    }

    private void CallCancelOnce()
    {
        if (Interlocked.Exchange(ref _cancelCalled, 1) != 0)
        {
            return;
        }
        try
        {
            _cancel();
        }
        catch (Exception e)
        {
            Engine.Log.Error(e, "The cancel hook of utility {0} threw; DSS unregisters it.", UtilId);
        }
    }
}

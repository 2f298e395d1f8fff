using System.Diagnostics;
using Akka.Actor;
using DarkSideSync.Engine;
using DarkSideSync.Deliveries;
using DarkSideSync.LuaSide;
using DarkSideSync.Queueing;

namespace DarkSideSync;

/// <summary>
/// A .NET utility's registration with one Lua state: the C# counterpart of the C API's utilid.
/// Register on the Lua thread; deliver and unregister from any thread.
/// </summary>
public sealed class DssUtility
{
    private readonly Registration _registration;

    internal DssUtility(Registration registration) => _registration = registration;

    internal Registration Registration => _registration;

    /// <summary>
    /// Registers a utility library with the Lua state (Lua thread only: call it from a Lua C
    /// function or while no Lua code runs). One registration per state and library: registering
    /// again returns the existing registration with <see cref="DssStatus.AlreadyRegistered"/>.
    /// </summary>
    /// <param name="luaState">The raw <c>lua_State*</c> (KeraLua: <c>lua.Handle</c>).</param>
    /// <param name="libraryId">Identifies the library process-wide (compared with Equals).</param>
    /// <param name="cancel">Stop-DSS asks the utility to stop delivering and unregister; if it does not, DSS unregisters it.</param>
    public static DssStatus Register(nint luaState, object libraryId, Action<DssUtility> cancel, out DssUtility? utility)
    {
        ArgumentNullException.ThrowIfNull(libraryId);
        ArgumentNullException.ThrowIfNull(cancel);
        utility = null;
        var status = LuaBinding.Find(luaState, out var binding);
        if (status != DssStatus.Success)
        {
            return status;
        }
        if (binding!.Engine is not { } engine)
        {
            return DssStatus.NotStarted;
        }
        DssUtility? self = null;
        status = engine.Register(libraryId, () => cancel(self!), out var registration);
        if (registration is not null)
        {
            self = new DssUtility(registration);
            utility = self;
        }
        return status;
    }

    /// <summary>The registration of <paramref name="libraryId"/> with the Lua state, or null (Lua thread only).</summary>
    public static DssUtility? Find(nint luaState, object libraryId) =>
        LuaBinding.Find(luaState, out var binding) == DssStatus.Success && binding!.Engine?.Find(libraryId) is { } r
            ? new DssUtility(r)
            : null;

    /// <summary>The utilid, the same number C utilities see.</summary>
    public nint UtilId => _registration.UtilId;

    /// <summary>The actor that owns this registration's lifecycle; Watch it to learn when the utility ends.</summary>
    public IActorRef Actor => _registration.Actor;

    public bool IsRegistered => _registration.IsRegistered;

    /// <summary>Completes when the utility is unregistered (by itself, by stop-DSS, or because its actor failed).</summary>
    public Task WhenUnregistered => _registration.WhenUnregistered;

    /// <summary>
    /// Queues <paramref name="data"/> for Lua and returns at once (any thread). Lua's poll()
    /// calls <paramref name="decode"/> on the Lua thread. A refused delivery queues nothing.
    /// Never waits: a full bounded queue refuses it with <see cref="DssStatus.QueueFull"/>
    /// whatever the state's overflow policy (<see cref="DeliverAsync"/> waits for room).
    /// </summary>
    /// <param name="dropped">
    /// Called instead of <paramref name="decode"/> when the delivery is cancelled while queued
    /// (unregister, stop-DSS), on the cancelling thread: the C API's decode with <c>L == NULL</c>.
    /// </param>
    public DssStatus Deliver<T>(T data, LuaDecode<T> decode, Action<T, CancelReason>? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return _registration.Deliver(ManagedDelivery<T>.Create(_registration, data, decode, dropped));
    }

    /// <summary>
    /// As <see cref="Deliver"/>, but a full bounded queue makes it wait for room, without
    /// blocking a thread (so it may be awaited on the Lua thread too), in arrival order
    /// whatever the state's overflow policy. Completes with the hand-over status:
    /// <see cref="DssStatus.Success"/> (or the <see cref="DssStatus.UdpSendFailed"/> warning)
    /// once queued; <see cref="DssStatus.QueueFull"/> when <paramref name="timeout"/> passed
    /// first (or the queue was set to overflow "fail" meanwhile); <see cref="DssStatus.InvalidUtilId"/>
    /// or <see cref="DssStatus.NotStarted"/> when the utility or DSS stopped meanwhile. A refused
    /// delivery was never queued: <paramref name="dropped"/> is not called for it.
    /// </summary>
    /// <param name="timeout">How long to wait for room; null or <see cref="Timeout.InfiniteTimeSpan"/>: no limit; zero: never wait.</param>
    /// <param name="cancellationToken">Cancelled while it waits for room: the task is cancelled and nothing was queued.</param>
    public ValueTask<DssStatus> DeliverAsync<T>(
        T data,
        LuaDecode<T> decode,
        Action<T, CancelReason>? dropped = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decode);
        CheckTimeout(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<DssStatus>(cancellationToken);
        }
        var delivery = ManagedDelivery<T>.Create(_registration, data, decode, dropped);
        var status = _registration.Deliver(delivery, timeout == TimeSpan.Zero ? RoomWait.Never : RoomWait.Always, blocksThread: false, out var waiter);
        return waiter is null
            ? ValueTask.FromResult(status)
            : _registration.Engine.AwaitRoomAsync(waiter, timeout, cancellationToken);
    }

    /// <summary>
    /// A host's own deliveries that let Lua finish what it started (resuming a coroutine with a
    /// .NET result, abandoning a call): queued at once even when a bounded queue is full, since
    /// a bound limits producers, never the answers Lua waits for (DSS 1.1). Refused only when
    /// the utility or DSS stopped. Never waits.
    /// </summary>
    public DssStatus DeliverPastTheBound<T>(T data, LuaDecode<T> decode, Action<T, CancelReason>? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(decode);
        return _registration.Deliver(ManagedDelivery<T>.Create(_registration, data, decode, dropped), RoomWait.Bypass, blocksThread: false, out _);
    }

    /// <summary>
    /// Queues <paramref name="data"/> for Lua and completes with Lua's answer (any thread).
    /// A full bounded queue makes it wait for room first, without blocking a thread, whatever
    /// the state's overflow policy. The task fails with <see cref="DssDeliveryRefusedException"/>
    /// when DSS refused it (<see cref="DssStatus.QueueFull"/>: the timeout passed while it waited
    /// for room), with <see cref="DssDeliveryCanceledException"/> when it was cancelled, timed
    /// out, or the utility or DSS stopped (its <see cref="DssDeliveryCanceledException.ReachedLua"/>
    /// tells whether Lua ever saw it), and with <see cref="DssUtilityException"/> when a hook threw.
    /// </summary>
    /// <param name="timeout">
    /// Give up after this long, counted from this call: for room, then for Lua's answer. A
    /// queued delivery that times out is withdrawn (<paramref name="dropped"/> is called once
    /// for it); one Lua holds has its answer discarded. Null (the default, as in DSS 1.0) or
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the utility is registered.
    /// </param>
    /// <param name="dropped">
    /// Called instead of <paramref name="decode"/> when the delivery is cancelled after it was
    /// queued and before Lua got it (timeout, token, unregister, stop-DSS), on the cancelling
    /// thread: release what <paramref name="data"/> holds (a <see cref="LuaReference"/> only on
    /// the Lua thread, later). Not called for a delivery that never got into the queue.
    /// </param>
    public Task<TResult> DeliverAndWaitAsync<T, TResult>(
        T data,
        LuaDecode<T> decode,
        LuaReturn<TResult> answer,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default,
        Action<T, CancelReason>? dropped = null) =>
        DeliverAndWaitAsync(data, decode, answer, timeout, cancellationToken, dropped, RoomWait.Always);

    /// <summary>
    /// <see cref="DeliverAndWaitAsync{T, TResult}(T, LuaDecode{T}, LuaReturn{TResult}, TimeSpan?, CancellationToken, Action{T, CancelReason}?)"/>
    /// where a full bounded queue does what <paramref name="whenFull"/> says:
    /// <see cref="QueueOverflow.Block"/> waits for room (within <paramref name="timeout"/>),
    /// <see cref="QueueOverflow.Fail"/> refuses at once with <see cref="DssStatus.QueueFull"/>.
    /// A host passes its state's configured policy here.
    /// </summary>
    public Task<TResult> DeliverAndWaitAsync<T, TResult>(
        T data,
        LuaDecode<T> decode,
        LuaReturn<TResult> answer,
        TimeSpan? timeout,
        CancellationToken cancellationToken,
        Action<T, CancelReason>? dropped,
        QueueOverflow whenFull) =>
        DeliverAndWaitAsync(data, decode, answer, timeout, cancellationToken, dropped,
            whenFull == QueueOverflow.Fail ? RoomWait.Never : RoomWait.Always);

    private Task<TResult> DeliverAndWaitAsync<T, TResult>(
        T data,
        LuaDecode<T> decode,
        LuaReturn<TResult> answer,
        TimeSpan? timeout,
        CancellationToken cancellationToken,
        Action<T, CancelReason>? dropped,
        RoomWait wait)
    {
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentNullException.ThrowIfNull(answer);
        CheckTimeout(timeout);
        long entry = Stopwatch.GetTimestamp();
        var request = new ManagedRequest<T, TResult>(_registration, data, decode, answer, dropped);
        var status = _registration.Deliver(request, wait, blocksThread: false, out var waiter);
        if (waiter is not null)
        {
            return AfterRoomAsync(request, waiter, entry, timeout, cancellationToken);
        }
        if (!status.IsDelivered())
        {
            return Task.FromException<TResult>(new DssDeliveryRefusedException(status));
        }
        request.AbortOn(timeout, cancellationToken);
        return request.Completion;
    }

    // The slow path of DeliverAndWaitAsync: it waited for room; what is left of the timeout bounds the answer.
    private async Task<TResult> AfterRoomAsync<T, TResult>(
        ManagedRequest<T, TResult> request, RoomWaiter waiter, long entry, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        DssStatus status;
        try
        {
            status = await _registration.Engine.AwaitRoomAsync(waiter, Remaining(timeout, entry), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new DssDeliveryCanceledException(CancelReason.CallerCancelled, reachedLua: false);
        }
        if (!status.IsDelivered())
        {
            throw new DssDeliveryRefusedException(status);
        }
        request.AbortOn(Remaining(timeout, entry), cancellationToken);
        return await request.Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// <c>DeliverAndWaitAsync</c> that blocks the calling thread until Lua answers. On a
    /// thread that must not wait for this state — its Lua thread (the one that required
    /// darksidesync, or the one <see cref="DssModule.DeclareLuaThread"/> named), one inside a
    /// hook, or inside one of the state's Lua-side calls — it throws
    /// <see cref="DssDeliveryRefusedException"/> with <see cref="DssStatus.WouldDeadlock"/>
    /// instead of hanging, and queues nothing. Otherwise it throws what the task would fail with.
    /// </summary>
    public TResult DeliverAndWait<T, TResult>(
        T data,
        LuaDecode<T> decode,
        LuaReturn<TResult> answer,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default,
        Action<T, CancelReason>? dropped = null)
    {
        if (_registration.Engine.MustNotWait)
        {
            _registration.Engine.Statistics.Refused();
            throw new DssDeliveryRefusedException(DssStatus.WouldDeadlock);
        }
        return DeliverAndWaitAsync(data, decode, answer, timeout, cancellationToken, dropped).GetAwaiter().GetResult();
    }

    private static void CheckTimeout(TimeSpan? timeout)
    {
        if (timeout is { } t && t != Timeout.InfiniteTimeSpan && (t < TimeSpan.Zero || t.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "The timeout must be positive (or Timeout.InfiniteTimeSpan) and below 24.8 days.");
        }
    }

    // What is left of a timeout counted from entry (never below zero); null stays null.
    private static TimeSpan? Remaining(TimeSpan? timeout, long entry) =>
        timeout is { } t && t != Timeout.InfiniteTimeSpan
            ? TimeSpan.FromTicks(Math.Max(0, (t - Stopwatch.GetElapsedTime(entry)).Ticks))
            : timeout;

    /// <summary>
    /// Any thread: ends a <c>darksidesync.wait()</c> of this utility's Lua state at once (it
    /// returns the queue size, 0 if nothing is queued), or the next one if Lua is not waiting.
    /// For hosts whose Lua loop sleeps in wait and must wake for reasons of their own (a stop).
    /// </summary>
    public void WakeLua() => _registration.Engine.Mailbox.Interrupt();

    /// <summary>
    /// Lua thread of a host that runs its own loop instead of <c>darksidesync.wait()</c>: sleeps
    /// until something is queued in this utility's Lua state, <see cref="WakeLua"/> is called,
    /// or the timeout passes (null: no limit). Returns the queue size, as <c>wait</c> does.
    /// A host can so let go of the state while it sleeps (see <see cref="EnterLuaThread"/>).
    /// </summary>
    public int WaitForDeliveries(TimeSpan? timeout = null)
    {
        CheckTimeout(timeout);
        var engine = _registration.Engine;
        int size = engine.Mailbox.WaitForWork(timeout ?? Timeout.InfiniteTimeSpan);
        engine.Statistics.Observe(size);
        return size;
    }

    /// <summary>
    /// For a host that runs the state's Lua code on more than one thread, one at a time (under
    /// its own lock): the current thread counts as the state's Lua thread until the scope is
    /// disposed, so a delivery it makes that would wait for this state is refused with
    /// <see cref="DssStatus.WouldDeadlock"/> instead of hanging. Nests; dispose on the same
    /// thread, while the state is still held. <c>using (utility.EnterLuaThread()) { ... }</c>
    /// </summary>
    public DssLuaThreadScope EnterLuaThread()
    {
        var watch = _registration.Engine.LuaThread;
        watch.EnterHeld();
        return new DssLuaThreadScope(watch);
    }

    /// <summary>Any thread: deliveries queued in this utility's Lua state now (a moment's view; as the C ABI's <c>queuesize</c>).</summary>
    public int QueueSize => _registration.Engine.Mailbox.Count;

    /// <summary>
    /// Any thread: the figures of this utility's Lua state now, as <c>darksidesync.stats()</c>
    /// reports them (for health checks and metrics; cheap enough to read every second).
    /// </summary>
    public DssStats Stats
    {
        get
        {
            var engine = _registration.Engine;
            var bound = engine.Mailbox.Bound;
            return engine.Statistics.Read(engine.IsRunning ? engine : null, bound.Capacity, bound.FailWhenFull);
        }
    }

    /// <summary>
    /// The stop-utility sequence (any thread): when it returns, DSS never calls this utility's
    /// hooks again, and every outstanding delivery was cancelled in delivery order.
    /// </summary>
    public DssStatus Unregister() => _registration.Unregister(CancelReason.UtilityUnregistered);
}

using Akka.Actor;
using Akka.Event;
using DarkSideSync.Actors;
using DarkSideSync.Deliveries;
using DarkSideSync.LuaSide;
using DarkSideSync.Queueing;

namespace DarkSideSync.Engine;

/// <summary>
/// DSS for one Lua state between a start and a stop: the queue, the notifier, the registered
/// utilities and the DssSupervisor that owns their lifecycles.
/// </summary>
internal sealed class DssEngine
{
    private const int Running = 0, Stopping = 1, Stopped = 2;

    private static long _lastEngineId; // names the supervisors: darksidesync-1, -2, ...

    private readonly List<Registration> _registrations = []; // registration order; guarded by itself
    private int _phase;
    private WakeFd? _wakeFd; // the state's getfd() descriptor, once Lua asked for it

    /// <param name="luaThread">The state's Lua-thread watch (it outlives this engine); none: only hooks are refused waits.</param>
    /// <param name="capacity">The queue's bound (<see cref="QueueBound.Unbounded"/>: none) and its overflow policy.</param>
    /// <param name="statistics">The state's statistics (they outlive this engine); none: counted for this engine alone.</param>
    public DssEngine(ActorSystem system, DssSettings settings, int port, LuaThreadWatch? luaThread = null,
        int capacity = QueueBound.Unbounded, bool failWhenFull = false, DeliveryStatistics? statistics = null)
    {
        if (system.WhenTerminated.IsCompleted)
        {
            throw new InvalidOperationException($"the actor system '{system.Name}' is terminated.");
        }
        System = system;
        Settings = settings;
        Log = Logging.GetLogger(system, "DarkSideSync");
        LuaThread = luaThread ?? new LuaThreadWatch();
        Mailbox = new Mailbox(capacity, failWhenFull);
        Notifier = new UdpNotifier(settings.Notification == NotificationMode.Coalesced);
        Notifier.SetPort(port);
        Statistics = statistics ?? new DeliveryStatistics();
        Statistics.Adopt(this);
        Supervisor = system.ActorOf(DssSupervisor.Props(), $"darksidesync-{Interlocked.Increment(ref _lastEngineId)}");
    }

    public ActorSystem System { get; }

    public DssSettings Settings { get; }

    public ILoggingAdapter Log { get; }

    public Mailbox Mailbox { get; }

    /// <summary>The state's <c>stats()</c> figures, which this engine counts into.</summary>
    public DeliveryStatistics Statistics { get; }

    /// <summary>Which threads must never wait for this state's deliveries (its declared Lua thread; one inside a Lua-side call).</summary>
    public LuaThreadWatch LuaThread { get; }

    /// <summary>
    /// True when the current thread must not block waiting for a delivery of this state (an
    /// answer, or room in the queue): it runs a hook (of any utility, any state), it is the
    /// state's declared Lua thread, or it is inside one of the state's Lua-side calls.
    /// Such a wait is refused with WOULD_DEADLOCK. An asynchronous wait is never refused.
    /// </summary>
    public bool MustNotWait => HookGate.AnyHeldByCurrentThread || LuaThread.IsCurrentThread;

    /// <summary>
    /// Lua thread, around Lua-side work that runs utilities' hooks or Lua callbacks (dispatch):
    /// until the scope is disposed a delivery from this thread that would wait is refused.
    /// <c>using (engine.EnterLuaSide()) { ... }</c>
    /// </summary>
    public LuaThreadWatch.Scope EnterLuaSide() => LuaThread.Enter();

    public UdpNotifier Notifier { get; }

    public IActorRef Supervisor { get; }

    public bool IsRunning => Volatile.Read(ref _phase) == Running;

    /// <summary>Lua thread. One registration per library; again returns the existing one.</summary>
    public DssStatus Register(object libId, Action cancel, out Registration? registration)
    {
        registration = null;
        if (!IsRunning)
        {
            return DssStatus.NotStarted;
        }
        if (Find(libId) is { } existing)
        {
            registration = existing;
            return DssStatus.AlreadyRegistered;
        }
        var created = new Registration(this, UtilityTable.NextId(), libId, cancel);
        try
        {
            created.Actor = Supervisor
                .Ask<DssSupervisor.UtilityAdopted>(new DssSupervisor.AdoptUtility(created), Settings.AskTimeout)
                .GetAwaiter().GetResult().Actor;
        }
        catch (Exception e)
        {
            // Timed out, or the actor system is shutting down.
            Log.Error(e, "The DSS supervisor did not answer; registration refused.");
            return DssStatus.NotStarted;
        }
        lock (_registrations)
        {
            _registrations.Add(created);
        }
        UtilityTable.Add(created);
        registration = created;
        return DssStatus.Success;
    }

    /// <summary>The registration of a library, or null.</summary>
    public Registration? Find(object libId)
    {
        lock (_registrations)
        {
            return _registrations.Find(r => r.LibId.Equals(libId));
        }
    }

    /// <summary>Utilities registered now.</summary>
    public int RegisteredCount
    {
        get
        {
            lock (_registrations)
            {
                return _registrations.Count;
            }
        }
    }

    /// <summary>The registrations, most recently registered first (the stop-DSS order).</summary>
    public Registration[] NewestFirst()
    {
        lock (_registrations)
        {
            var newestFirst = _registrations.ToArray();
            Array.Reverse(newestFirst);
            return newestFirst;
        }
    }

    /// <summary>
    /// Any producer thread, admitted by its registration. An unbounded queue takes the item at
    /// once. A bounded one takes it if there is room, or refuses it, or (SUCCESS with a
    /// <paramref name="waiter"/>) lines it up for room: the caller then waits with
    /// <see cref="AwaitRoom"/> or <see cref="AwaitRoomAsync"/>, outside its registration's admission.
    /// </summary>
    /// <param name="blocksThread">The caller would block its thread waiting for room (C), rather than await (C#).</param>
    public DssStatus Post(Delivery delivery, RoomWait wait, bool blocksThread, out RoomWaiter? waiter)
    {
        waiter = null;
        if (!IsRunning)
        {
            return DssStatus.NotStarted;
        }
        if (Mailbox.Limit is not { } limit || wait == RoomWait.Bypass)
        {
            Mailbox.Post(delivery);
        }
        else
        {
            var status = limit.TryPost(Mailbox, delivery, wait, blocksThread, out waiter);
            if (waiter is not null || status != DssStatus.Success)
            {
                return status;
            }
        }
        return Announce();
    }

    // Any producer thread, its item queued: wakes whoever watches the queue (getfd's fd, UDP).
    private DssStatus Announce()
    {
        Volatile.Read(ref _wakeFd)?.AfterPost();
        return Notifier.AfterDelivery(Mailbox);
    }

    /// <summary>
    /// Lua thread (getfd, start): from now on posts make <paramref name="wakeFd"/> readable;
    /// it is made readable now if something is queued already.
    /// </summary>
    public void AttachWakeFd(WakeFd wakeFd)
    {
        Interlocked.Exchange(ref _wakeFd, wakeFd); // a fence before the look at the queue: see WakeFd
        wakeFd.Owner = this;
        wakeFd.SignalIfQueued(Mailbox);
    }

    /// <summary>The state's getfd() descriptor once it has one; null before.</summary>
    public WakeFd? WakeFd => Volatile.Read(ref _wakeFd);

    /// <summary>
    /// Lua thread, when this engine's queue may be empty (a take, a stop's end): makes getfd's fd
    /// quiet if it is, and only if this engine is still the one posting through it (after a
    /// stop and start inside a hook the newer engine's items keep it readable).
    /// </summary>
    public void QuietWakeFdIfEmpty()
    {
        if (WakeFd is { } wakeFd && wakeFd.Owner == this)
        {
            wakeFd.ClearIfEmpty(Mailbox);
        }
    }

    /// <summary>
    /// The producer's thread blocks until its waiter is admitted (SUCCESS or UDP_SEND_FAILED),
    /// refused (INVALID_UTILID, NOT_STARTED, QUEUE_FULL) or <paramref name="timeoutMs"/> passed
    /// (QUEUE_FULL; -1: no limit). Never on a thread for which <see cref="MustNotWait"/> holds.
    /// </summary>
    public DssStatus AwaitRoom(RoomWaiter waiter, int timeoutMs)
    {
        var status = waiter.Task.Wait(timeoutMs) || !Mailbox.Bound.GiveUp(waiter)
            ? waiter.Task.Result
            : DssStatus.QueueFull;
        return status == DssStatus.Success ? Announce() : RefusedAfterWaiting(status);
    }

    /// <summary>
    /// As <see cref="AwaitRoom"/>, without blocking a thread. A cancelled token throws
    /// <see cref="OperationCanceledException"/> when the item was never queued.
    /// </summary>
    public async ValueTask<DssStatus> AwaitRoomAsync(RoomWaiter waiter, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            await waiter.Task.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (Mailbox.Bound.GiveUp(waiter))
        {
            return RefusedAfterWaiting(DssStatus.QueueFull);
        }
        catch (OperationCanceledException) when (Mailbox.Bound.GiveUp(waiter))
        {
            Statistics.Refused();
            throw;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Admitted or refused meanwhile: the outcome stands.
        }
        var status = await waiter.Task.ConfigureAwait(false);
        return status == DssStatus.Success ? Announce() : RefusedAfterWaiting(status);
    }

    // A producer that waited for room was refused after all (timeout, unregister, stop, "fail").
    private DssStatus RefusedAfterWaiting(DssStatus status)
    {
        Statistics.Refused();
        return status;
    }

    /// <summary>The registration has unregistered: forget it.</summary>
    public void Forget(Registration registration)
    {
        lock (_registrations)
        {
            _registrations.Remove(registration);
        }
        UtilityTable.Remove(registration);
    }

    /// <summary>
    /// The stop-DSS sequence; Lua thread. Refuses new registrations and deliveries at once,
    /// then has the supervisor cancel every utility, newest first. When it returns no producer
    /// is blocked and no hook of any utility of this state will run again — or, when called
    /// from inside a hook (a finalizer that runs during poll, a decode that stops DSS), that
    /// is true as soon as the Lua thread has left the hook: the unregisters the cancel hooks
    /// cause need the hook's gate, so waiting for them here would deadlock (see <see cref="HookGate"/>).
    /// </summary>
    /// <param name="closing">The Lua state is closing: past the stop-timeout, no cancel hook is started any more (lua_close may unload its code).</param>
    public void Stop(bool closing)
    {
        if (Interlocked.CompareExchange(ref _phase, Stopping, Running) != Running)
        {
            return;
        }
        // At once, also from inside a hook: a producer waiting for room is released, its item never queued.
        Mailbox.Bound.Refuse(static _ => true, DssStatus.NotStarted);
        HookGate.WhenNoneHeld(() => CancelEveryUtility(closing));
    }

    // Never throws: it may run as deferred work when the Lua thread leaves a gate.
    private void CancelEveryUtility(bool closing)
    {
        try
        {
            AskSupervisorToCancel();
            // Whatever the actors could not do: the actor system is gone (so this thread cancels),
            // or a cancel hook hangs (so the rest are told without waiting for them again).
            foreach (var registration in NewestFirst())
            {
                if (System.WhenTerminated.IsCompleted)
                {
                    registration.CancelAndUnregister();
                }
                else if (closing)
                {
                    registration.Unregister(CancelReason.DssStopped);
                }
                else
                {
                    registration.UnregisterAndCancelInBackground();
                }
            }
        }
        catch (Exception e)
        {
            Log.Error(e, "stop-DSS failed.");
        }
        finally
        {
            Volatile.Write(ref _phase, Stopped);
            Statistics.Retire(this);
            Notifier.Dispose();
            // A stop deferred until a hook returned cancelled the queue only now: the fd goes quiet.
            QuietWakeFdIfEmpty();
        }
    }

    private void AskSupervisorToCancel()
    {
        if (System.WhenTerminated.IsCompleted)
        {
            return;
        }
        try
        {
            Supervisor.Ask<DssSupervisor.DssStopped>(DssSupervisor.StopDss.Instance, Settings.StopTimeout)
                .GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            // Timed out, or the actor system is shutting down: the caller finishes the job.
            Log.Warning("The DSS supervisor did not finish stop-DSS within {0} ({1}); unregistering what is left.", Settings.StopTimeout, e.Message);
        }
    }
}

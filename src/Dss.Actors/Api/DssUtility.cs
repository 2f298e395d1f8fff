using Akka.Actor;
using DarkSideSync.Engine;
using DarkSideSync.Deliveries;
using DarkSideSync.LuaSide;

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
    /// Queues <paramref name="data"/> for Lua and completes with Lua's answer (any thread).
    /// The task fails with <see cref="DssDeliveryRefusedException"/> when DSS refused it, with
    /// <see cref="DssDeliveryCanceledException"/> when it was cancelled, timed out, or the utility
    /// or DSS stopped (its <see cref="DssDeliveryCanceledException.ReachedLua"/> tells whether Lua
    /// ever saw it), and with <see cref="DssUtilityException"/> when a hook threw.
    /// </summary>
    /// <param name="timeout">
    /// Give up after this long; null (the default, as in DSS 1.0) or
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the utility is registered.
    /// </param>
    /// <param name="dropped">
    /// Called instead of <paramref name="decode"/> when the delivery is cancelled before Lua
    /// got it (timeout, token, unregister, stop-DSS), on the cancelling thread: release what
    /// <paramref name="data"/> holds (a <see cref="LuaReference"/> only on the Lua thread, later).
    /// </param>
    public Task<TResult> DeliverAndWaitAsync<T, TResult>(
        T data,
        LuaDecode<T> decode,
        LuaReturn<TResult> answer,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default,
        Action<T, CancelReason>? dropped = null)
    {
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentNullException.ThrowIfNull(answer);
        if (timeout is { } t && t != Timeout.InfiniteTimeSpan && (t < TimeSpan.Zero || t.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "The timeout must be positive (or Timeout.InfiniteTimeSpan) and below 24.8 days.");
        }
        var request = new ManagedRequest<T, TResult>(_registration, data, decode, answer, dropped);
        var status = _registration.Deliver(request);
        if (!status.IsDelivered())
        {
            return Task.FromException<TResult>(new DssDeliveryRefusedException(status));
        }
        request.AbortOn(timeout, cancellationToken);
        return request.Completion;
    }

    /// <summary>
    /// The stop-utility sequence (any thread): when it returns, DSS never calls this utility's
    /// hooks again, and every outstanding delivery was cancelled in delivery order.
    /// </summary>
    public DssStatus Unregister() => _registration.Unregister(CancelReason.UtilityUnregistered);
}

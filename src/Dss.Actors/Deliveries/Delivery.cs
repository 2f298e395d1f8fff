using Akka.Event;
using Debug = System.Diagnostics.Debug;
using DarkSideSync.Queueing;
using DarkSideSync.LuaSide;

using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

/// <summary>
/// One item handed to DSS by a producer: it travels deliver → decode → (return) exactly as
/// pData does in the C API. Subclasses bind the hooks of a C utility or of a .NET one.
/// </summary>
internal abstract class Delivery : QueueLink
{
    private int _state; // a DeliveryState; changed by TryMove, or by Settle on the Lua thread out of Decoding

    protected Delivery(Registration owner)
    {
        Owner = owner;
        Stripe = ProducerThread.Current.Stripe;
    }

    /// <summary>The stripe of the producer thread that made it, for the striped counters it passes (one thread-static read per delivery).</summary>
    public int Stripe { get; private set; }

    /// <summary>The registration it was delivered to; set again when a recycled node is reused.</summary>
    public Registration Owner { get; private set; }

    /// <summary>The pool this node returns to once it is finished; null for deliveries that are never recycled (blocking ones).</summary>
    public DeliveryPool? Pool { get; protected init; }

    /// <summary>The next node of a chain of finished or recycled nodes (see <see cref="DeliveryPool"/>).</summary>
    public Delivery? NextFree;

    /// <summary>On the first node of a batch in a <see cref="DeliveryPool"/>: the next batch.</summary>
    public Delivery? NextBatch;

    /// <summary>
    /// Producer thread, on a recycled node taken from <see cref="Pool"/>: makes it a new queued
    /// delivery of <paramref name="owner"/>. Nobody else references the node (see <see cref="DeliveryPool"/>).
    /// </summary>
    protected void Reuse(Registration owner, ProducerThread producer)
    {
        Debug.Assert(Pool is not null && NextFree is null);
        Owner = owner;
        Stripe = producer.Stripe;
        Next = null;
        AwaitingNode = null;
        Volatile.Write(ref _state, (int)DeliveryState.Queued);
    }

    /// <summary>Lua thread, when a finished node is retired: drops what it references (the producer's data), so the pool keeps nothing alive.</summary>
    public virtual void Clear()
    {
    }

    /// <summary>True when a producer waits for Lua's answer (C: <c>ret != NULL</c>).</summary>
    public abstract bool WaitsForAnswer { get; }

    /// <summary>Its node in <see cref="Owner"/>'s list of deliveries waiting for Lua's answer; guarded by the owner's gate.</summary>
    public LinkedListNode<Delivery>? AwaitingNode { get; set; }

    public DeliveryState State => (DeliveryState)Volatile.Read(ref _state);

    public bool TryMove(DeliveryState from, DeliveryState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

    /// <summary>
    /// Lua thread, owner's gate held: moves a delivery out of <see cref="DeliveryState.Decoding"/>
    /// with a plain store. No compare-and-swap is needed: nobody else moves a delivery out of
    /// Decoding (a canceller's moves start from Queued or AwaitingAnswer).
    /// </summary>
    public void Settle(DeliveryState to)
    {
        Debug.Assert(State == DeliveryState.Decoding && Owner.Gate.IsHeldByCurrentThread);
        Volatile.Write(ref _state, (int)to);
    }

    /// <summary>
    /// Lua thread, owner's gate held: the utility pushes a callback and its arguments;
    /// <paramref name="pushed"/> is how many it says it pushed (the caller believes at most
    /// what was added to the stack). False when the hook raised a
    /// Lua error (C hooks): then only the error object was added to the stack.
    /// </summary>
    public abstract bool TryDecode(lua_State L, out int pushed);

    /// <summary>
    /// Lua thread, owner's gate held: the utility takes Lua's answer (the values on the stack);
    /// <paramref name="results"/> is how many values on top it left for Lua. False when the
    /// hook raised a Lua error (C hooks): then the error object is on top.
    /// </summary>
    public abstract bool TryAnswer(lua_State L, bool garbage, out int results);

    /// <summary>Any thread, owner's gate held: the delivery will never reach Lua (decode with <c>L == NULL</c>).</summary>
    public abstract void CancelQueued(CancelReason reason);

    /// <summary>Any thread, owner's gate held: Lua's answer will never come (return with <c>L == NULL</c>).</summary>
    public abstract void CancelAnswer(CancelReason reason);

    /// <summary>A .NET hook threw: end the delivery and let its producer know. Lua thread; never throws.</summary>
    public abstract void Fail(Exception error);

    /// <summary>The delivery is over (completed, cancelled or failed): release a blocked producer. Never throws.</summary>
    public abstract void Release();

    /// <summary>
    /// Runs a .NET utility's "dropped" hook (the counterpart of decode(NULL)) for a delivery
    /// cancelled before Lua got it; a hook that throws is logged, never propagated.
    /// </summary>
    protected void RunDroppedHook<T>(Action<T, CancelReason>? dropped, T data, CancelReason reason)
    {
        try
        {
            dropped?.Invoke(data, reason);
        }
        catch (Exception e)
        {
            Owner.Engine.Log.Error(e, "The dropped hook of utility {0} threw.", Owner.UtilId);
        }
    }
}

using DarkSideSync.Deliveries;
using DarkSideSync.Engine;
using DarkSideSync.Queueing;
using Debug = System.Diagnostics.Debug;

namespace DarkSideSync.LuaSide;

/// <summary>How the Lua thread takes a delivery and what becomes of it once its decode hook has returned: the same for poll and dispatch.</summary>
internal static class Settlement
{
    /// <summary>
    /// Lua thread: takes the oldest queued delivery and moves it to <see cref="DeliveryState.Decoding"/>,
    /// with its owner's gate entered (leave it with <see cref="HookGate.ExitHeld"/>); null when the
    /// queue shows none. Deliveries cancelled while queued are passed over (already accounted for).
    /// </summary>
    public static Delivery? TakeOldest(Mailbox mailbox, HookGate.ThreadGates gates)
    {
        while (mailbox.TryPeekOldest(out var delivery))
        {
            var gate = delivery.Owner.Gate;
            gate.EnterHeld(gates);
            // Peeked, not taken: an unregister holding the gate still finds it in the queue.
            mailbox.RemoveOldest();
            if (delivery.TryMove(DeliveryState.Queued, DeliveryState.Decoding))
            {
                mailbox.Claimed();
                return delivery;
            }
            gate.ExitHeld(gates);
        }
        return null;
    }

    /// <summary>
    /// Lua thread, the owner's gate held, the delivery <see cref="DeliveryState.Decoding"/>, and
    /// decode pushed <paramref name="pushed"/> values (already clamped to what it pushed). Moves
    /// the delivery on: completed (nothing pushed, or nobody waits), awaiting Lua's answer, or
    /// spent (its utility unregistered from inside the decode). Returns false when there is
    /// nothing for Lua to call. A blocking delivery with something to call gets a
    /// waitingthread_callback either way (a spent one does nothing).
    /// </summary>
    public static bool AfterDecode(Delivery delivery, int pushed)
    {
        Debug.Assert(delivery.Owner.Gate.IsHeldByCurrentThread && delivery.State == DeliveryState.Decoding);
        if (pushed == 0 || !delivery.WaitsForAnswer)
        {
            delivery.Settle(DeliveryState.Completed);
            delivery.Owner.Engine.Statistics.Completed();
            delivery.Release();
        }
        else if (delivery.Owner.TryAwaitAnswer(delivery))
        {
            delivery.Settle(DeliveryState.AwaitingAnswer);
        }
        else
        {
            delivery.Settle(DeliveryState.Cancelled);
            delivery.Owner.Engine.Statistics.Cancelled();
            delivery.CancelAnswer(CancelReason.UtilityUnregistered);
            delivery.Release();
        }
        return pushed > 0;
    }

    /// <summary>Lua thread, the owner's gate held: the decode hook raised (or a .NET one threw); the delivery ends as if cancelled.</summary>
    public static void AfterRaisingDecode(Delivery delivery)
    {
        Debug.Assert(delivery.Owner.Gate.IsHeldByCurrentThread);
        delivery.Settle(DeliveryState.Cancelled);
        delivery.Owner.Engine.Statistics.Cancelled();
        delivery.Release();
    }
}

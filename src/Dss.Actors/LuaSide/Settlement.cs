using DarkSideSync.Deliveries;
using Debug = System.Diagnostics.Debug;

namespace DarkSideSync.LuaSide;

/// <summary>What becomes of a delivery once its decode hook has returned: the same for poll and dispatch.</summary>
internal static class Settlement
{
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
            Moved(delivery.TryMove(DeliveryState.Decoding, DeliveryState.Completed));
            delivery.Release();
        }
        else if (delivery.Owner.TryAwaitAnswer(delivery))
        {
            Moved(delivery.TryMove(DeliveryState.Decoding, DeliveryState.AwaitingAnswer));
        }
        else
        {
            Moved(delivery.TryMove(DeliveryState.Decoding, DeliveryState.Cancelled));
            delivery.CancelAnswer(CancelReason.UtilityUnregistered);
            delivery.Release();
        }
        return pushed > 0;
    }

    /// <summary>Lua thread, the owner's gate held: the decode hook raised; the delivery ends as if cancelled.</summary>
    public static void AfterRaisingDecode(Delivery delivery)
    {
        Debug.Assert(delivery.Owner.Gate.IsHeldByCurrentThread);
        Moved(delivery.TryMove(DeliveryState.Decoding, DeliveryState.Cancelled));
        delivery.Release();
    }

    // Only the Lua thread moves a delivery out of Decoding, and only under its gate: a failed move is a bug.
    private static void Moved(bool moved) => Debug.Assert(moved, "a decoding delivery is moved on by the Lua thread alone");
}

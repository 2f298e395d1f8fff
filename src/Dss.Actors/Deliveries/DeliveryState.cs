using DarkSideSync.Engine;

namespace DarkSideSync.Deliveries;

/// <summary>
/// Where a delivery is in its life. Every move is a compare-and-swap, so exactly one party
/// (the Lua thread, an unregistering thread or a timer) runs each of the utility's hooks.
/// </summary>
/// <remarks>
/// Queued → Decoding → Completed (non-blocking, or decode pushed nothing)
/// Queued → Decoding → AwaitingAnswer → Answering → Completed (blocking)
/// Queued → Cancelled, AwaitingAnswer → Cancelled (unregister, stop-DSS, timeout).
/// </remarks>
internal enum DeliveryState
{
    Queued,
    Decoding,
    AwaitingAnswer,
    Answering,
    Completed,
    Cancelled,
}



namespace DarkSideSync;

/// <summary>A blocking delivery ended without Lua's answer.</summary>
public sealed class DssDeliveryCanceledException : OperationCanceledException
{
    public DssDeliveryCanceledException(CancelReason reason, bool reachedLua)
        : base(Describe(reason, reachedLua))
    {
        Reason = reason;
        ReachedLua = reachedLua;
    }

    public CancelReason Reason { get; }

    /// <summary>
    /// False: Lua never saw the delivery (it was withdrawn from the queue before decode).
    /// True: Lua had it; whatever Lua answers later is discarded.
    /// </summary>
    public bool ReachedLua { get; }

    private static string Describe(CancelReason reason, bool reachedLua) =>
        $"The delivery was cancelled ({reason}) " + (reachedLua ? "after Lua received it; its answer is discarded." : "before Lua received it; it will never be decoded.");
}

/// <summary>DSS refused a delivery: <see cref="Status"/> is the spec's code.</summary>
public sealed class DssDeliveryRefusedException(DssStatus status)
    : InvalidOperationException($"DSS refused the delivery: {status} ({(int)status}).")
{
    public DssStatus Status { get; } = status;
}

/// <summary>A utility's decode or return hook threw; the delivery ended there.</summary>
public sealed class DssUtilityException(string message, Exception inner) : Exception(message, inner);

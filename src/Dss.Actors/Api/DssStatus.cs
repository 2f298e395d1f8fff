namespace DarkSideSync;

/// <summary>The status codes of the DSS C API, with the values of the spec (1v0, and those of 1v1 in use).</summary>
public enum DssStatus
{
    /// <summary>A warning: the delivery was queued, only the UDP notification failed.</summary>
    UdpSendFailed = -99,
    Success = -100,
    /// <summary>Unknown or already unregistered utility (also while DSS is stopping).</summary>
    InvalidUtilId = -101,
    /// <summary>DSS is not started for this Lua state, or it is stopping or stopped.</summary>
    NotStarted = -102,
    NoCancelProvided = -103,
    OutOfMemory = -104,
    NoDecodeProvided = -105,
    /// <summary>The Lua state has no DSS data (darksidesync was never loaded into it).</summary>
    NoGlobals = -106,
    UnknownLib = -107,
    /// <summary>The (state, library) pair is registered already; the existing registration is returned.</summary>
    AlreadyRegistered = -108,
    /// <summary>
    /// The bounded queue is full and the delivery may not wait for room (overflow <c>fail</c>,
    /// a fail-fast delivery, or its timeout ran out while it waited). Nothing was queued.
    /// </summary>
    QueueFull = -109,
    /// <summary>
    /// A blocking delivery with a timeout got no answer in time. It was queued; DSS called the
    /// utility once with <c>L == NULL</c> for it (decode if Lua never got it, return if Lua holds it).
    /// </summary>
    TimedOut = -110,
    /// <summary>
    /// A delivery that would wait (for Lua's answer, or for room) refused because it would wait
    /// on the thread that has to make progress for it: it was made from inside a hook, or on
    /// the state's Lua thread. Nothing was queued.
    /// </summary>
    WouldDeadlock = -111,
}

public static class DssStatusExtensions
{
    /// <summary>True for <see cref="DssStatus.Success"/> and the <see cref="DssStatus.UdpSendFailed"/> warning: the item was handed over.</summary>
    public static bool IsDelivered(this DssStatus status) => status is DssStatus.Success or DssStatus.UdpSendFailed;
}

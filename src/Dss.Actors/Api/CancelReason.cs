namespace DarkSideSync;

/// <summary>Why a delivery was cancelled before Lua answered it.</summary>
public enum CancelReason
{
    /// <summary>The utility unregistered (the stop-utility sequence).</summary>
    UtilityUnregistered,
    /// <summary>DSS stopped for the Lua state: <c>stop()</c>, or the state was closed.</summary>
    DssStopped,
    /// <summary>The producer's timeout expired.</summary>
    Timeout,
    /// <summary>The producer's <see cref="CancellationToken"/> was cancelled.</summary>
    CallerCancelled,
}

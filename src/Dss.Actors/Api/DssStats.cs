namespace DarkSideSync;

/// <summary>
/// The figures of <c>darksidesync.stats()</c> for one Lua state, at one moment: counters since
/// the module was loaded for the state (they survive stop and start), and the queue now.
/// </summary>
/// <remarks>
/// Each figure is read once, one after another: while producers run they are a moment's view,
/// not a snapshot. Once everything is quiet, <c>Delivered == Completed + Cancelled + Queued + Waiting</c>.
/// </remarks>
/// <param name="Queued">Deliveries in the queue now.</param>
/// <param name="Highwater">The most queued at once, as the Lua thread saw the queue (at each poll, each dispatch's start and end, queuesize, wait, stats).</param>
/// <param name="Delivered">Deliveries accepted.</param>
/// <param name="Completed">Deliveries decoded, answered or finished (a waitingthread_callback collected by Lua's GC completes its delivery).</param>
/// <param name="Cancelled">Deliveries ended without completing: by unregister, stop, a timeout, or a hook that raised or threw.</param>
/// <param name="Refused">Deliveries refused with any refusal code (DSS never called their hooks).</param>
/// <param name="Waiting">Blocking deliveries Lua has taken whose answer is still pending.</param>
/// <param name="Utilities">Utilities registered now.</param>
/// <param name="Capacity">The queue's bound; null when unbounded.</param>
/// <param name="Overflow">What a full bounded queue does with a delivery.</param>
public sealed record DssStats(
    long Queued,
    long Highwater,
    long Delivered,
    long Completed,
    long Cancelled,
    long Refused,
    long Waiting,
    int Utilities,
    int? Capacity,
    QueueOverflow Overflow);

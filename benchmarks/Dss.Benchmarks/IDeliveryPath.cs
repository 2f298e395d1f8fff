namespace DarkSideSync.Benchmarks;

/// <summary>
/// One way for a producer thread to hand items to Lua: the C# API (<see cref="ManagedPath"/>) or
/// the C ABI (<see cref="CAbi.CAbiPath"/>). Both decode to <c>bench.on_item(i)</c> or
/// <c>bench.on_request(reply, x)</c>, so the Lua side is the same for both.
/// </summary>
internal interface IDeliveryPath
{
    string Name { get; }

    /// <summary>Any thread: non-blocking deliveries of the integers first .. first + count - 1.</summary>
    void DeliverItems(int first, int count);

    /// <summary>Any thread: one blocking delivery of <paramref name="x"/>; returns Lua's answer (x + 1).</summary>
    long RoundTrip(long x);

    /// <summary>Non-blocking deliveries whose decode pushes nothing (for the cost split).</summary>
    void DeliverNothing(int count);
}

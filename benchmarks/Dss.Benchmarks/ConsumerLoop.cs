namespace DarkSideSync.Benchmarks;

/// <summary>
/// How the Lua thread takes non-blocking items: the 1.0 <c>poll()</c> loop or DSS 1.1's
/// <c>dispatch()</c> loop, each a function of bench.lua taking the total and returning
/// (calls that found the queue empty, items misreported).
/// </summary>
internal sealed record ConsumerLoop(string Name, string LuaFunction)
{
    /// <summary><c>local c, cb, args = poll(); cb(args[1])</c>, until every callback ran.</summary>
    public static readonly ConsumerLoop Poll = new("poll", "consume_items");

    /// <summary><c>while count &lt; total do dispatch() end</c>.</summary>
    public static readonly ConsumerLoop Dispatch = new("dispatch", "dispatch_items");
}

namespace DarkSideSync.Native.Tests.Support;

/// <summary>The test-only C utilities in c/, as paths relative to the repository root.</summary>
public static class TestUtilities
{
    /// <summary>
    /// <c>require "threaded_producer"</c>: <c>producer.start(threads, items, callback)</c> has
    /// pthreads deliver <c>callback(thread, item)</c> non-blocking, items 1..n in order per
    /// thread; <c>run:join()</c> waits for them and returns how many deliveries DSS refused.
    /// </summary>
    public const string ThreadedProducer = "tests/Dss.Native.Tests/c/threaded_producer.c";

    public static Task AddThreadedProducerAsync(this LuaProcess lua) =>
        lua.AddCModuleAsync("threaded_producer", ThreadedProducer);

    /// <summary>
    /// <c>require "faulty_utility"</c>: a utility whose decode, ret and cancel misbehave on
    /// demand (raise, push thousands of values, lie about their count, unreg/deliver/stop
    /// re-entrantly, never return), with pthreads for blocking and non-blocking deliveries,
    /// a seeded C ABI fuzzer and counters that check every delivery ended exactly once.
    /// The modes and methods are listed at the top of c/faulty_utility/faulty_utility.h.
    /// </summary>
    public const string FaultyUtilityDirectory = "tests/Dss.Native.Tests/c/faulty_utility";

    /// <summary>The sources of <c>faulty_utility</c>, one concern each (see faulty_utility.h).</summary>
    public static readonly string[] FaultyUtility =
    [
        FaultyUtilityDirectory + "/faulty_lua.c",
        FaultyUtilityDirectory + "/faulty_threads.c",
        FaultyUtilityDirectory + "/faulty_hooks.c",
        FaultyUtilityDirectory + "/faulty_ledger.c",
        FaultyUtilityDirectory + "/faulty_fuzz.c",
        FaultyUtilityDirectory + "/faulty_abi.c",
    ];

    public static Task AddFaultyUtilityAsync(this LuaProcess lua) =>
        lua.AddCModuleAsync("faulty_utility", FaultyUtility);
}

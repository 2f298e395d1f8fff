namespace DarkSideSync.Benchmarks;

/// <summary>What the .NET GC did over one run: bytes allocated, collections, time paused.</summary>
/// <param name="AllocatedBytes">Every thread's, <c>GC.GetTotalAllocatedBytes(precise: true)</c> delta.</param>
/// <param name="LuaThreadBytes">The Lua thread's own (<c>GC.GetAllocatedBytesForCurrentThread</c> delta).</param>
/// <param name="ProducerBytes">The producer threads' own, summed (see <see cref="ProducerThreads.AllocatedBytes"/>).</param>
/// <param name="Collections">Gen0, gen1 and gen2 collections (a gen1 counts in gen0 too, as the runtime counts).</param>
/// <param name="PauseShare">GC pause time over the run's wall time.</param>
internal sealed record GcFigures(long AllocatedBytes, long LuaThreadBytes, long ProducerBytes, int Gen0, int Gen1, int Gen2, double PauseShare)
{
    public double BytesPerItem(long items) => (double)AllocatedBytes / items;

    public double LuaThreadBytesPerItem(long items) => (double)LuaThreadBytes / items;

    public double ProducerBytesPerItem(long items) => (double)ProducerBytes / items;
}

/// <summary>
/// Takes the GC's counters at <see cref="Start"/> and again at <see cref="Stop"/>, on the Lua
/// thread (the thread that runs the loop and creates the meter).
/// </summary>
internal readonly struct GcMeter
{
    private readonly long _allocated, _luaThread;
    private readonly int _gen0, _gen1, _gen2;
    private readonly TimeSpan _paused;

    private GcMeter(long allocated, long luaThread, int gen0, int gen1, int gen2, TimeSpan paused)
    {
        (_allocated, _luaThread, _gen0, _gen1, _gen2, _paused) = (allocated, luaThread, gen0, gen1, gen2, paused);
    }

    public static GcMeter Start() => new(
        GC.GetTotalAllocatedBytes(precise: true), GC.GetAllocatedBytesForCurrentThread(),
        GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    /// <param name="seconds">The run's wall time, for the pause share.</param>
    /// <param name="producerBytes">What the producer threads allocated meanwhile (0 when none ran).</param>
    public GcFigures Stop(double seconds, long producerBytes) => new(
        GC.GetTotalAllocatedBytes(precise: true) - _allocated,
        GC.GetAllocatedBytesForCurrentThread() - _luaThread,
        producerBytes,
        GC.CollectionCount(0) - _gen0, GC.CollectionCount(1) - _gen1, GC.CollectionCount(2) - _gen2,
        (GC.GetTotalPauseDuration() - _paused).TotalSeconds / seconds);
}

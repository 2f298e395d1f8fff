namespace DarkSideSync.Benchmarks;

/// <summary>
/// The allocation table of the non-blocking rows: managed bytes allocated per delivery (all
/// threads, the producers' own, the Lua thread's), collections per run and the GC's pause
/// share of the run, medians over the runs, with the default GC settings (whatever the
/// environment gave this process: the header prints the mode).
/// </summary>
internal sealed class GcTable
{
    private const double PauseAim = 0.02; // issue 8: GC pauses < 2% of the run

    private readonly List<string[]> _rows = [];

    public void Add(string scenario, string path, IReadOnlyList<ThroughputRun> runs)
    {
        double Med(Func<ThroughputRun, double> f) => Measure.Median(runs.Select(f));
        double pause = Med(r => r.Gc.PauseShare);
        _rows.Add([
            scenario, path,
            $"{Med(r => r.Gc.BytesPerItem(r.Items)):F2}",
            $"{Med(r => r.Gc.ProducerBytesPerItem(r.Items)):F2}",
            $"{Med(r => r.Gc.LuaThreadBytesPerItem(r.Items)):F2}",
            $"{Med(r => r.Gc.Gen0):F0} / {Med(r => r.Gc.Gen1):F0} / {Med(r => r.Gc.Gen2):F0}",
            $"{pause:P1}", $"{runs.Min(r => r.Gc.PauseShare):P1}..{runs.Max(r => r.Gc.PauseShare):P1}",
            pause < PauseAim ? "ok" : "MISS",
        ]);
    }

    public void Print()
    {
        string[] header = ["Non-blocking row", "Path", "B/item all", "producers", "Lua thread", "GCs gen0/1/2", "GC pause", "min..max", $"< {PauseAim:P0}"];
        var all = _rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        string Line(string[] row) => string.Join("  ", row.Select((cell, c) => c is >= 2 and <= 7 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine("Managed allocation and GC per non-blocking row (medians of the runs; bytes per delivery):");
        Console.WriteLine(Line(header));
        Console.WriteLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
        _rows.ForEach(r => Console.WriteLine(Line(r)));
    }
}

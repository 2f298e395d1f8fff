namespace DarkSideSync.Benchmarks;

/// <summary>The headline table: each measured figure beside the original C DSS and the aim.</summary>
/// <remarks>
/// The aim is twice the original's throughput and no worse latency. Figures of the original:
/// C DSS 1.0 in stock lua5.4 on this 2-core machine (issue 3; the 4-producer poll loop
/// remeasured in issue 8, 2026-11: 2.72-2.79 M/s, of which the aim takes the higher end).
/// </remarks>
internal sealed class ResultTable
{
    private readonly List<string[]> _rows = [];

    /// <param name="original">The original's figure as shown, e.g. "2.72..2.79".</param>
    /// <param name="originalMax">Its upper end, in M/s: the aim is twice that.</param>
    /// <param name="ratios">This row over the poll row, per alternating pair (dispatch rows only).</param>
    public void Throughput(string scenario, string path, double[] millionsPerSecond, string original, double originalMax, double[]? ratios = null)
    {
        double median = Measure.Median(millionsPerSecond);
        double aim = 2 * originalMax;
        _rows.Add([
            scenario, path,
            $"{median:F2} M/s", $"{millionsPerSecond.Min():F2}..{millionsPerSecond.Max():F2}",
            ratios is { Length: > 0 } ? $"x{Measure.Median(ratios):F2}" : "",
            $"{original} M/s", $">= {aim:F2} M/s", median >= aim ? "ok" : "MISS",
        ]);
    }

    public void Latency(string scenario, string path, double[] microseconds, double? target)
    {
        double median = Measure.Median(microseconds);
        _rows.Add([
            scenario, path,
            $"{median:F1} µs", $"{microseconds.Min():F1}..{microseconds.Max():F1}", "",
            target is { } t ? $"{t:F1} µs" : "-", target is { } a ? $"<= {a:F1} µs" : "-",
            target is { } limit ? (median <= limit ? "ok" : "MISS") : "",
        ]);
    }

    public void Print()
    {
        string[] header = ["Scenario", "Path", "Measured", "Runs min..max", "vs poll", "C DSS 1.0", "Aim", ""];
        var all = _rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        string Line(string[] row) => string.Join("  ", row.Select((cell, c) => c is >= 2 and <= 6 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(header));
        Console.WriteLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
        _rows.ForEach(r => Console.WriteLine(Line(r)));
    }
}

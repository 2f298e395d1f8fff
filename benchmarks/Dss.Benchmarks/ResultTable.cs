namespace DarkSideSync.Benchmarks;

/// <summary>The headline table: each measured figure beside the original C DSS and the aim.</summary>
/// <remarks>
/// The aim is twice the original's throughput and no worse latency. Figures of the original:
/// C DSS 1.0 in stock lua5.4 on this 2-core machine.
/// </remarks>
internal sealed class ResultTable
{
    private readonly List<string[]> _rows = [];

    public void Throughput(string scenario, string path, double[] millionsPerSecond, double target)
    {
        double median = Measure.Median(millionsPerSecond);
        double aim = 2 * target;
        _rows.Add([
            scenario, path,
            $"{median:F2} M/s", $"{millionsPerSecond.Min():F2}..{millionsPerSecond.Max():F2}",
            $"{target:F2} M/s", $">= {aim:F2} M/s", median >= aim ? "ok" : "MISS",
        ]);
    }

    public void Latency(string scenario, string path, double[] microseconds, double? target)
    {
        double median = Measure.Median(microseconds);
        _rows.Add([
            scenario, path,
            $"{median:F1} µs", $"{microseconds.Min():F1}..{microseconds.Max():F1}",
            target is { } t ? $"{t:F1} µs" : "-", target is { } a ? $"<= {a:F1} µs" : "-",
            target is { } limit ? (median <= limit ? "ok" : "MISS") : "",
        ]);
    }

    public void Print()
    {
        string[] header = ["Scenario", "Path", "Measured", "Runs min..max", "C DSS 1.0", "Aim", ""];
        var all = _rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        string Line(string[] row) => string.Join("  ", row.Select((cell, c) => c is 2 or 3 or 4 or 5 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]))).TrimEnd();
        Console.WriteLine(Line(header));
        Console.WriteLine(new string('-', widths.Sum() + 2 * (widths.Length - 1)));
        _rows.ForEach(r => Console.WriteLine(Line(r)));
    }
}

using System.Diagnostics;
using System.Runtime;
using System.Runtime.InteropServices;
using DarkSideSync.Benchmarks;
using DarkSideSync.Benchmarks.CAbi;

// DarkSideSync .NET benchmark: throughput and round-trip latency through a real Lua poll loop,
// for the C# API and the C ABI, against the original C DSS in stock lua5.4 on a 2-core machine.
// Options: --quick (a smoke run, figures not meaningful), --repetitions N,
// --only nonblocking|blocking|profile (one part only).
const string Usage = "usage: dotnet run -c Release --project benchmarks/Dss.Benchmarks [-- --quick] [--repetitions N] [--only nonblocking|blocking|profile]";
if (UsageError(args) is { } problem)
{
    Console.Error.WriteLine(problem is "" ? Usage : $"{problem}\n{Usage}");
    return problem is "" ? 0 : 2;
}
var wall = Stopwatch.StartNew();
bool quick = args.Contains("--quick");
string? only = Array.IndexOf(args, "--only") is int o and >= 0 && o + 1 < args.Length ? args[o + 1] : null;
bool Runs(string part) => only is null || only == part;
int repetitions = OptionValue(args, "--repetitions") ?? (quick ? 2 : 5);
const int Warmups = 1;
int items = quick ? 200_000 : 2_000_000;     // per non-blocking run, all producers together
int requests = quick ? 2_000 : 20_000;       // per producer per blocking run
int profileItems = quick ? 100_000 : 1_000_000;

Console.WriteLine("DarkSideSync for .NET: benchmark");
Console.WriteLine($"command : dotnet run -c Release --project benchmarks/Dss.Benchmarks{(args.Length > 0 ? " -- " + string.Join(' ', args) : "")}");
Console.WriteLine($"machine : {Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}");
Console.WriteLine($"runtime : {RuntimeInformation.FrameworkDescription}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, {GCSettings.LatencyMode}{(IsOptimized() ? "" : ", NOT OPTIMIZED (use -c Release)")}");
if (File.Exists("/proc/loadavg"))
{
    // The figures assume an otherwise idle machine; a load above ~0.5 before the run says they are not.
    Console.WriteLine($"load    : {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (1-minute load average before the run)");
}
Console.WriteLine($"method  : one Lua state, the Lua loop on the main thread; {Warmups} warm-up + {repetitions} runs per row, median shown");
Console.WriteLine($"          non-blocking: {items:N0} items per run; blocking: {requests:N0} requests per producer per run");
Console.WriteLine();

using var host = new BenchHost();
var managed = new ManagedPath(host);
var native = new CAbiPath(host);
IDeliveryPath[] paths = [managed, native];

var table = new ResultTable();
var gcTable = new GcTable();
var diagnostics = new List<string>();
long misreported = 0; // items poll() returned with a count of -1, over the recorded runs
foreach (int producers in Runs("nonblocking") ? new[] { 1, 4 } : [])
{
    foreach (var path in paths)
    {
        Progress($"non-blocking, {producers} producer(s), {path.Name}, poll and dispatch");
        // poll and dispatch alternate, so their ratio compares runs seconds apart.
        var (polled, dispatched) = Measure.RepeatPair(Warmups, repetitions,
            () => NonBlockingThroughput.Run(host, path, ConsumerLoop.Poll, producers, items),
            () => NonBlockingThroughput.Run(host, path, ConsumerLoop.Dispatch, producers, items));
        // Originals (M/s, this machine): 1 producer 1.85 (issue 3); 4 producers 2.72-2.79 (issue 8).
        var (original, originalMax) = producers == 1 ? ("1.85", 1.85) : ("2.72..2.79", 2.79);
        string scenario = $"Non-blocking, {producers} producer{(producers > 1 ? "s" : "")}";
        double[] ratios = polled.Zip(dispatched, (p, d) => d.ItemsPerSecond / p.ItemsPerSecond).ToArray();
        foreach (var (loop, runs) in new[] { (ConsumerLoop.Poll, polled), (ConsumerLoop.Dispatch, dispatched) })
        {
            string name = $"{scenario}, {loop.Name}";
            table.Throughput(name, path.Name, runs.Select(r => r.ItemsPerSecond / 1e6).ToArray(), original, originalMax,
                loop == ConsumerLoop.Dispatch ? ratios : null);
            gcTable.Add(name, path.Name, runs);
            diagnostics.Add($"non-blocking {producers}p {path.Name,-6} {loop.Name,-8}: empty calls per run {Measure.Median(runs.Select(r => (double)r.EmptyPolls)),12:N0}, GC pause {Measure.Median(runs.Select(r => r.GcPauseShare)),6:P1} of the run");
            misreported += runs.Sum(r => r.Misreported);
        }
    }
}
foreach (int producers in Runs("blocking") ? new[] { 1, 4 } : [])
{
    foreach (var path in paths)
    {
        Progress($"blocking, {producers} producer(s), {path.Name}");
        var runs = Measure.Repeat(Warmups, repetitions, () => BlockingLatency.Run(host, path, producers, requests));
        string scenario = $"Blocking round trip, {producers} producer{(producers > 1 ? "s" : "")}";
        table.Latency(scenario + ", p50", path.Name, runs.Select(r => r.P50Us).ToArray(), producers == 1 ? 7.8 : null);
        table.Latency(scenario + ", p99", path.Name, runs.Select(r => r.P99Us).ToArray(), producers == 1 ? 21 : 141);
        diagnostics.Add($"blocking     {producers}p {path.Name,-6}: {Measure.Median(runs.Select(r => r.RequestsPerSecond)),9:N0} round trips/s, worst {Measure.Median(runs.Select(r => r.MaxUs)),8:N0} µs (median over runs)");
        misreported += runs.Sum(r => r.Misreported);
    }
}
IReadOnlyList<ProfileRow> profile = [];
if (Runs("profile"))
{
    Progress("Lua-thread cost split");
    profile = LuaThreadProfile.Run(host, managed, native, profileItems, Warmups, Math.Min(repetitions, 3));
}
Console.Error.WriteLine();

table.Print();
Console.WriteLine();
if (Runs("nonblocking"))
{
    gcTable.Print();
    Console.WriteLine();
}
Console.WriteLine("Diagnostics (medians of the runs):");
diagnostics.ForEach(d => Console.WriteLine("  " + d));
Console.WriteLine(misreported == 0
    ? "  poll() contract: no item came back with a count of -1"
    : $"  ENGINE BUG: poll() returned {misreported} item(s) with a count of -1 (\"empty\"); a loop that trusts -1 loses them.");
Console.WriteLine();
if (profile.Count > 0)
{
    PrintProfile(profile, profileItems);
}
Console.WriteLine();
Console.WriteLine($"total run time: {wall.Elapsed.TotalSeconds:F1} s");
return 0;

static void PrintProfile(IReadOnlyList<ProfileRow> rows, int n)
{
    Console.WriteLine($"Lua thread, cost per item, one thread, no contention ({n:N0} items per loop; ns, median):");
    foreach (var row in rows)
    {
        Console.WriteLine($"  {row.Step,-46} {row.NsPerItem,8:F1}");
    }
    double Ns(string prefix) => rows.First(r => r.Step.StartsWith(prefix, StringComparison.Ordinal)).NsPerItem;
    Console.WriteLine("  split of one poll() + cb(args[1]) (C# API), differences of the rows above:");
    var split = new (string, double)[]
    {
        ("Lua loop", Ns("Lua: empty")),
        ("Lua -> C# call, poll on an empty queue", Ns("darksidesync.poll()") - Ns("Lua: empty")),
        ("take an item + call decode (pushes nothing)", Ns("poll(), decode pushes nothing") - Ns("darksidesync.poll()")),
        ("decode's pushes + args table + results", Ns("poll(), decode pushes cb") - Ns("poll(), decode pushes nothing")),
        ("the Lua callback cb(args[1])", Ns("poll() + cb(args[1]) (C# API)") - Ns("poll(), decode pushes cb")),
    };
    foreach (var (step, ns) in split)
    {
        Console.WriteLine($"    {step,-48} {ns,8:F1}");
    }
    Console.WriteLine("  split of one item of dispatch() (C# API), the same way:");
    var dispatchSplit = new (string, double)[]
    {
        ("take + decode (pushes nothing) + settle", Ns("dispatch(), decode pushes nothing")),
        ("decode's pushes + the callback cb(i)", Ns("dispatch() + cb(i) (C# API)") - Ns("dispatch(), decode pushes nothing")),
        ("dispatch() + cb(i) over poll() + cb(args[1])", Ns("dispatch() + cb(i) (C# API)") / Ns("poll() + cb(args[1]) (C# API)")),
    };
    foreach (var (step, value) in dispatchSplit)
    {
        Console.WriteLine(step.StartsWith("dispatch() + cb(i) over", StringComparison.Ordinal)
            ? $"    {step,-48} {"x" + value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture),8}"
            : $"    {step,-48} {value,8:F1}");
    }
}

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
        : RuntimeInformation.ProcessArchitecture.ToString();

static void Progress(string what) => Console.Error.Write($"\r{what,-60}");

// "" for --help; a message for a bad command line; null when it is fine.
static string? UsageError(string[] args)
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--help" or "-h":
                return "";
            case "--quick":
                break;
            case "--repetitions" when i + 1 < args.Length && int.TryParse(args[i + 1], out int n) && n > 0:
                i++;
                break;
            case "--only" when i + 1 < args.Length && args[i + 1] is "nonblocking" or "blocking" or "profile":
                i++;
                break;
            default:
                return $"unknown or incomplete option '{args[i]}'";
        }
    }
    return null;
}

static int? OptionValue(string[] args, string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int value) ? value : null;
}

static bool IsOptimized() =>
    typeof(BenchHost).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false) is not [DebuggableAttribute { IsJITOptimizerDisabled: true }];

using System.Diagnostics;
using Akka.Actor;
using DarkSideSync.Hosting;
using DarkSideSync.Hosting.Benchmarks;

// Hosted Lua benchmark: CallAsync round trips into hosted states (a Lua function adding two
// numbers) beside a KeraLua state behind a lock called on the caller's thread, in one run.
//   dotnet run -c Release --project benchmarks/Dss.Hosting.Benchmarks [-- --quick]
bool quick = args.Contains("--quick");
int latencyCalls = quick ? 2_000 : 20_000;
var throughputTime = TimeSpan.FromSeconds(quick ? 0.5 : 3);
int repetitions = quick ? 1 : 3;
const string Script = "function add(a, b) return a + b end";

Console.WriteLine("DarkSideSync for .NET: hosted Lua benchmark");
Console.WriteLine($"command : dotnet run -c Release --project benchmarks/Dss.Hosting.Benchmarks{(quick ? " -- --quick" : "")}");
Console.WriteLine($"machine : {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Console.WriteLine($"load    : {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?")} (1-minute load average before the run)");
Console.WriteLine($"date    : {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; {repetitions} repetitions per row, median shown; rows alternate within each repetition");
Console.WriteLine();

var folder = Directory.CreateTempSubdirectory("dss-hosting-bench").FullName;
File.WriteAllText(Path.Combine(folder, "add.lua"), Script);
using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");
var stateOptions = new LuaStateOptions { ScriptFolders = [folder], StartupScripts = ["add.lua"] };
await using var state = await HostedLuaState.StartAsync(system, stateOptions, "bench");
await using var pool = await LuaPool.StartAsync(system, new LuaPoolOptions { Size = 2, State = stateOptions }, "bench-pool");
using var locked = new LockedState(Script);

var rows = new Dictionary<string, List<double>>();
void Add(string row, double value) => (rows.TryGetValue(row, out var list) ? list : rows[row] = []).Add(value);

for (int r = 0; r < repetitions; r++)
{
    // One caller, awaiting each call: the Lua thread sleeps between calls.
    var hosted = await Latency(latencyCalls, () => state.CallAsync<long>("add", [1, 2]));
    var baseline = await Latency(latencyCalls, () => Task.FromResult(locked.Add(1, 2)));
    Add("1 caller, hosted state: p50 us", hosted.P50);
    Add("1 caller, hosted state: p99 us", hosted.P99);
    Add("1 caller, lock baseline: p50 us", baseline.P50);
    Add("1 caller, lock baseline: p99 us", baseline.P99);

    // 16 concurrent callers for a fixed time.
    Add("16 callers, hosted state: calls/s", await Throughput(16, throughputTime, () => state.CallAsync<long>("add", [1, 2])));
    Add("16 callers, pool of 2: calls/s", await Throughput(16, throughputTime, () => pool.CallAsync<long>("add", [1, 2])));
    Add("16 callers, lock baseline: calls/s", await Throughput(16, throughputTime, () => Task.Run(() => locked.Add(1, 2))));
}

// Idle: CPU of the states' Lua threads, and of the whole process, while nothing calls (no
// busy loop), after a second for the thread pool's spinning workers to park.
await Task.Delay(TimeSpan.FromSeconds(1));
var idleSpan = TimeSpan.FromSeconds(quick ? 1 : 3);
double luaCpu0 = LuaThreadsCpuMs(), cpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
await Task.Delay(idleSpan);
double idleLua = (LuaThreadsCpuMs() - luaCpu0) / idleSpan.TotalMilliseconds * 100;
double idleProcess = (Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - cpu0) / idleSpan.TotalMilliseconds * 100;

Console.WriteLine($"{"measurement",-40} {"median",12} {"min..max",24}");
foreach (var (row, values) in rows)
{
    values.Sort();
    Console.WriteLine($"{row,-40} {values[values.Count / 2],12:N1} {$"{values[0]:N1}..{values[^1]:N1}",24}");
}
Console.WriteLine($"{"idle: the 3 Lua threads' CPU",-40} {idleLua,11:N2}% of a core");
Console.WriteLine($"{"idle: the whole process's CPU",-40} {idleProcess,11:N2}% of a core (Akka's scheduler, the runtime)");
Console.WriteLine();
Console.WriteLine("hosted: CallAsync -> DSS delivery -> the state's thread wakes from wait(), dispatch runs hosting.lua's");
Console.WriteLine("call in a coroutine, the answer goes back through the waitingthread_callback; lock: PCall on the caller's thread.");
Directory.Delete(folder, true);
await pool.StopAsync();
return 0;

// CPU time (ms) of this process's threads named "Lua ..." (the hosted states' threads), from /proc.
static double LuaThreadsCpuMs()
{
    double ms = 0;
    foreach (var task in Directory.GetDirectories("/proc/self/task"))
    {
        if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith("Lua ", StringComparison.Ordinal))
        {
            var fields = File.ReadAllText(Path.Combine(task, "stat")).Split(") ")[1].Split(' ');
            ms += (long.Parse(fields[11]) + long.Parse(fields[12])) * 10.0; // utime + stime, USER_HZ 100
        }
    }
    return ms;
}

static async Task<(double P50, double P99)> Latency(int calls, Func<Task<long>> call)
{
    for (int i = 0; i < calls / 10; i++)
    {
        await call(); // warm-up
    }
    var samples = new double[calls];
    for (int i = 0; i < calls; i++)
    {
        long start = Stopwatch.GetTimestamp();
        await call();
        samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }
    Array.Sort(samples);
    return (samples[calls / 2], samples[(int)(calls * 0.99)]);
}

static async Task<double> Throughput(int callers, TimeSpan duration, Func<Task<long>> call)
{
    long done = 0;
    var clock = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        while (clock.Elapsed < duration)
        {
            await call();
            Interlocked.Increment(ref done);
        }
    })).ToArray();
    await Task.WhenAll(workers);
    return done / clock.Elapsed.TotalSeconds;
}

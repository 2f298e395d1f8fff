using System.Diagnostics;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using Xunit.Abstractions;

namespace DarkSideSync.Tests;

/// <summary>Specs that run alone: they measure the process's threads, descriptors, memory or allocations.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoakCollection
{
    public const string Name = "Soak";
}

/// <summary>
/// A seeded random mix, for <c>DSS_SOAK_SECONDS</c> (default 3): several Lua states, each on a
/// thread of its own, register, serve, stop, start and close; producer threads deliver
/// through both APIs (blocking and not) and unregister. Afterwards every accepted delivery
/// ended exactly once, no refused one was decoded, no producer is blocked, and the process's
/// threads, file descriptors and RSS are back near where they were.
/// </summary>
/// <remarks>
/// <c>DSS_SOAK_SEED</c> replays a seed (the threads interleave differently each run, so a
/// replay takes the same decisions, not the same schedule). Cancel hooks that never return
/// keep a thread each, so they are not part of this mix (see NeverReturningCancelSpec).
/// </remarks>
[Collection(SoakCollection.Name)]
[Trait("Category", "Soak")]
public sealed class SoakSpec : TestKit
{
    private const int States = 3, Producers = 6;
    private readonly ITestOutputHelper _output;

    public SoakSpec(ITestOutputHelper output)
        : base() => _output = output;

    [Fact]
    public void A_seeded_mix_over_three_states_ends_every_delivery_once_and_returns_to_its_resource_baseline()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("DSS_SOAK_SEED"), out int given) ? given : Random.Shared.Next();
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("DSS_SOAK_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : 3;
        string replay = $"seed {seed}: DSS_SOAK_SEED={seed} DSS_SOAK_SECONDS={seconds} replays it";
        _output.WriteLine($"soak: {replay}");

        try
        {
            Mix(seed ^ 0x5eed, Math.Min(0.5, seconds)); // warm-up: JIT, Akka's dispatchers, the thread pool
            var baseline = Resources.Measure();
            var report = Mix(seed, seconds);
            var after = Resources.Settle(baseline, TimeSpan.FromSeconds(10));
            _output.WriteLine($"soak: {report}");
            _output.WriteLine($"soak: resources before {baseline}, after {after}");
            Resources.AssertNear(baseline, after);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"The soak failed ({replay}): {e.Message}", e);
        }
    }

    // One run of the mix; returns a summary. Fails on any broken rule.
    private string Mix(int seed, double seconds)
    {
        var targets = new LoadTargets();
        CApi api;
        using (var probe = new LuaThread(Sys, "probe"))
        {
            api = probe.Call(h => CApi.FromRegistry(h.Lua))!; // one struct for the whole process
        }
        var producers = new LoadProducers(targets, api, unregisterPerMille: 3);
        var states = new RawThreads();
        var finishing = new ManualResetEventSlim(false);
        var counts = new long[7];
        for (int index = 0; index < States; index++)
        {
            int stateIndex = index;
            states.Start($"Lua state {stateIndex}", () => RunState(stateIndex, seed, targets, api, producers.Log, finishing, counts));
        }
        producers.Start(Producers, seed);

        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        producers.Stop();
        finishing.Set();
        var limit = LuaThread.Patience + LuaThread.Patience;
        states.Join(limit);           // each state closes at the end, which releases every producer
        producers.StopAndJoin(limit);
        string summary = $"{seconds} s: {counts[0]} serves, {counts[1]} registers, {counts[2]} stops, {counts[3]} starts, {counts[4]} closes, {counts[5]} releases, {counts[6]} drops; {producers.Summary()}";
        producers.AssertEveryDeliveryEndedOnce($"(seed {seed}; {summary}; {producers.Details()})");
        finishing.Dispose();
        return summary;
    }

    // The Lua thread of one state (and of the states that replace it after a close).
    private void RunState(int index, int seed, LoadTargets targets, CApi api, CApiLog cancelLog, ManualResetEventSlim finishing, long[] counts)
    {
        var random = new Random(seed * 31 + index);
        int registered = 0;
        LuaHost NewState()
        {
            var host = new LuaHost(Sys);
            host.Run(StopAndCloseUnderLoadSpec.ServeLua + $"\nmath.randomseed({random.Next()})");
            Register(host);
            Register(host);
            return host;
        }
        void Register(LuaHost host)
        {
            string name = $"soak-{index}-{registered++}";
            if (random.Next(2) == 0)
            {
                var status = DssUtility.Register(host.State, name, u => u.Unregister(), out var utility);
                Assert.Equal(DssStatus.Success, status);
                targets.Add(utility!);
            }
            else
            {
                nint utilId = api.Reg(host.State, CApiTestUtility.NewLibId(), cancelLog, name, out int errcode, unregOnCancel: random.Next(4) != 0);
                Assert.Equal((int)DssStatus.Success, errcode);
                targets.Add(utilId);
            }
        }

        var lua = NewState();
        bool running = true;
        while (!finishing.IsSet)
        {
            int op = random.Next(100);
            if (!running)
            {
                if (op < 50)
                {
                    lua.Run("darksidesync.start()");
                    running = true;
                    Register(lua);
                    Interlocked.Increment(ref counts[3]);
                }
                else
                {
                    Thread.Sleep(1); // stopped for a while: producers meet NOT_STARTED / INVALID_UTILID
                }
            }
            else if (op < 75)
            {
                lua.Run("serve(200)");
                Interlocked.Increment(ref counts[0]);
            }
            else if (op < 80)
            {
                Register(lua);
                Interlocked.Increment(ref counts[1]);
            }
            else if (op < 83)
            {
                lua.Run("darksidesync.stop()");
                running = false;
                Interlocked.Increment(ref counts[2]);
            }
            else if (op < 85)
            {
                lua.Close();
                lua = NewState();
                running = true;
                Interlocked.Increment(ref counts[4]);
            }
            else if (op < 93)
            {
                lua.Run("release_held()");
                Interlocked.Increment(ref counts[5]);
            }
            else
            {
                lua.Run("held = {} collectgarbage()"); // the dropped callbacks answer through __gc
                Interlocked.Increment(ref counts[6]);
            }
        }
        // The producers are stopping: answer what Lua holds, then close (stop-DSS releases the rest).
        var clock = Stopwatch.StartNew();
        while (running && clock.Elapsed < TimeSpan.FromMilliseconds(200))
        {
            lua.Run("release_held() serve(200)");
        }
        lua.Close();
    }

    /// <summary>What the process holds: threads, open file descriptors, resident memory.</summary>
    private readonly record struct Resources(int Threads, int Descriptors, long RssKb)
    {
        // Generous: the thread pool and Akka's dispatchers may keep a few more threads, and
        // the GC does not hand all memory back; a leak per delivery or per state is far larger.
        private const int ExtraThreads = 12, ExtraDescriptors = 16;
        private const long ExtraRssKb = 200 * 1024;

        public static Resources Measure()
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            long rss = File.ReadLines("/proc/self/status")
                .Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
                .Single();
            return new Resources(Directory.GetDirectories("/proc/self/task").Length, Directory.GetFileSystemEntries("/proc/self/fd").Length, rss);
        }

        /// <summary>Measures until the process is back near <paramref name="baseline"/> or <paramref name="within"/> passed (threads end asynchronously).</summary>
        public static Resources Settle(Resources baseline, TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            var now = Measure();
            while (!now.IsNear(baseline) && clock.Elapsed < within)
            {
                Thread.Sleep(200);
                now = Measure();
            }
            return now;
        }

        public static void AssertNear(Resources baseline, Resources after)
        {
            Assert.True(after.Threads <= baseline.Threads + ExtraThreads, $"threads: {baseline.Threads} before, {after.Threads} after");
            Assert.True(after.Descriptors <= baseline.Descriptors + ExtraDescriptors, $"file descriptors: {baseline.Descriptors} before, {after.Descriptors} after");
            Assert.True(after.RssKb <= baseline.RssKb + ExtraRssKb, $"RSS: {baseline.RssKb} kB before, {after.RssKb} kB after");
        }

        private bool IsNear(Resources baseline) =>
            Threads <= baseline.Threads + ExtraThreads && Descriptors <= baseline.Descriptors + ExtraDescriptors && RssKb <= baseline.RssKb + ExtraRssKb;

        public override string ToString() => $"{Threads} threads, {Descriptors} fds, {RssKb / 1024} MB RSS";
    }
}

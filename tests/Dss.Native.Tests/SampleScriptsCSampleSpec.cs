using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>The Lua scripts of samples/c, run as a user would, against the C samples built from source.</summary>
[Collection(NativeCollection.Name)]
public sealed class SampleScriptsCSampleSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(30) };

    private async Task<IReadOnlyList<string>> RunSampleAsync(string script)
    {
        await CSampleBuild.AddToAsync(_lua);
        var result = await _lua.RunAsync(CSampleBuild.Script(script));
        return result.AssertSucceeded().Lines;
    }

    [Fact]
    public async Task Producer_checks_must_pass_every_scenario()
    {
        var lines = await RunSampleAsync("producer_checks.lua");

        Assert.Equal(
            [
                "ok unregister cancels queued and Lua-side items once each and releases every thread",
                "ok bad calls return the spec's codes",
                "ok a cancel that does not unregister: stop-DSS unregisters the utility itself",
                "ok after start() old utilids stay invalid and a new registration works",
            ],
            lines);
    }

    [Fact]
    public async Task Workers_demo_must_deliver_every_result_and_none_after_stop()
    {
        var lines = await RunSampleAsync("workers_demo.lua");

        // Results come in the order the pool finishes them.
        Assert.Contains(lines, line => line.StartsWith("primes <= 1000000: 78498, the largest 999983 (", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("primes <= 3000000: 216816, the largest 2999999 (", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("primes <= 5000000: 348513, the largest 4999999 (", StringComparison.Ordinal));
        // /etc/services comes with Debian's netbase, which a minimal image may lack.
        Assert.Contains(lines, line => System.Text.RegularExpressions.Regex.IsMatch(
            line, @"^(FNV-1a 64 of /etc/services: [0-9a-f]{16} \(\d+ bytes|hash failed: /etc/services: )"));
        Assert.Contains("hash failed: /no/such/file: No such file or directory", lines);
        Assert.Matches(@"^5 jobs, 5 results, 0 cancelled, \d+ idle ticks of the Lua thread meanwhile$", lines[5]);
        Assert.Matches(@"^after stop-DSS: 5 results, [01] cancelled, [01] refused$", lines[6]);
        Assert.Equal(7, lines.Count);
    }

    [Fact]
    public async Task Signal_demo_must_run_each_signal_as_a_Lua_callback_and_restore_the_handlers()
    {
        var lines = await RunSampleAsync("signal_demo.lua");

        Assert.Matches(@"^pid \d+: sending USR1, TERM, then INT to myself$", lines[0]);
        Assert.Equal(
            [
                "caught SIGUSR1 (10) on the Lua thread",
                "caught SIGTERM (15) on the Lua thread",
                "caught SIGINT (2) on the Lua thread",
                "received 3, delivered 3, cancelled 0",
                "closed; the previous handlers are back",
            ],
            lines.Skip(1));
    }

    [Theory]
    [InlineData("per-delivery")]
    [InlineData("coalesced")]
    public async Task Select_loop_must_handle_every_result_and_end_on_its_own_SIGINT(string notification)
    {
        _lua.UseConfig($"darksidesync.notification = {notification}");

        var lines = await RunSampleAsync("select_loop.lua");

        Assert.Matches(@"^DSS wakes this loop through UDP port 50\d\d\d$", lines[0]);
        Assert.Equal(
            ["primes <= 1000000: 78498", "primes <= 2000000: 148933", "primes <= 3000000: 216816", "primes <= 500000: 41538"],
            lines.Skip(1).Take(4).Select(line => line[..line.IndexOf(" (", StringComparison.Ordinal)]).Order(StringComparer.Ordinal));
        Assert.Equal(["all results in; sending SIGINT to myself", "SIGINT: leaving the loop"], lines.Skip(5).Take(2));
        Assert.Matches(@"^\d+ wake-ups, [0-4] select timeouts$", lines[7]);
        Assert.Equal(8, lines.Count);
    }

    [CSampleCopasFact]
    public async Task Copas_loop_must_handle_every_result_in_the_Copas_scheduler()
    {
        var lines = await RunSampleAsync("copas_loop.lua");

        Assert.DoesNotContain("copas is not installed (apt-get install lua-copas); nothing to show", lines);
        Assert.Contains(lines, line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^/etc/passwd: [0-9a-f]{16}, \d+ bytes$"));
        Assert.Contains("error: /no/such/file: No such file or directory", lines);
        Assert.Contains("primes <= 1000000: 78498", lines);
        Assert.Contains("primes <= 2000000: 148933", lines);
        Assert.Matches(@"^Copas .+: all 5 results handled in \d+ Copas steps$", lines[^1]);
        Assert.Equal(6, lines.Count);
    }
}

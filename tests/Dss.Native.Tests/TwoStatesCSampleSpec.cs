using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Two Lua states in one process (the samples/c/two_states.c host, each state with
/// darksidesync and dss_producer): closing one, with blocked deliverers and a producer that
/// never stops, touches nothing of the other (the original cancelled every state's utilities).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class TwoStatesCSampleSpec(NativeModuleFixture module)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private async Task<ProcessResult> RunHostAsync()
    {
        var build = await CSampleBuild.GetAsync();
        return await build.RunHostAsync(module, build.TwoStatesHost, Timeout);
    }

    [Fact]
    public async Task Each_state_must_receive_all_the_items_of_its_own_pthreads()
    {
        var lines = (await RunHostAsync()).AssertSucceeded().Lines;

        Assert.Equal("A: 40000 of 40000 items", lines[0]);
        Assert.Equal("B: 40000 of 40000 items", lines[1]);
    }

    [Fact]
    public async Task Closing_one_state_must_not_cancel_or_refuse_anything_of_the_other()
    {
        var result = await RunHostAsync();

        var lines = result.AssertSucceeded().Lines;
        // Two blocking items queued, and what the never-ending producer added meanwhile.
        Assert.Matches(@"^A: closing with 1 item\(s\) held by Lua, ([2-9]|[1-9]\d+) queued, 4 thread\(s\) running$", lines[2]);
        Assert.Equal("B: 45000 of 45000 items after A closed", lines[4]);
        Assert.Matches(
            @"^B: utilid \d+ received 45000, decode 45000, decode\(NULL\) 0, ret\(NULL\) 0, cancel 0, deliver codes \{SUCCESS=45000\}$",
            lines[5]);
        Assert.Equal(["B: undisturbed by closing A", "B: closed"], lines.Skip(6));
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Closing_a_state_with_blocked_deliverers_must_take_less_than_2_seconds()
    {
        var lines = (await RunHostAsync()).AssertSucceeded().Lines;

        var closing = Assert.Single(lines, line => line.StartsWith("A: lua_close took ", StringComparison.Ordinal));
        double milliseconds = double.Parse(
            closing["A: lua_close took ".Length..^" ms".Length], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(milliseconds, 0, 2000);
    }
}

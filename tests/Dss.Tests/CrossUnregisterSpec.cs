using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// Two Lua states, each inside a decode of its own utility, unregister each other's utility
/// at the same moment. Each unregister needs the gate the other state's Lua thread holds;
/// neither may wait for it (a thread inside a hook never waits for another thread), so both
/// return, and each unregister finishes once its thread has left its hook.
/// </summary>
public sealed class CrossUnregisterSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const int Success = (int)DssStatus.Success;

    private readonly LuaThread _first;
    private readonly LuaThread _second;
    private readonly CApi _api;

    public CrossUnregisterSpec()
    {
        _first = new LuaThread(Sys);
        _second = new LuaThread(Sys);
        _api = _first.Call(h => CApi.FromRegistry(h.Lua))!; // one struct per process
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _first.Dispose();
            _second.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Decodes_of_two_states_that_unregister_each_others_utility_at_once_both_return()
    {
        nint a = _first.Call(h => CApiScriptedUtility.Reg(_api, h.State, id => _api.Unreg(id)));
        nint b = _second.Call(h => CApiScriptedUtility.Reg(_api, h.State, id => _api.Unreg(id)));
        using var bothInside = new Barrier(2);
        int fromA = 0, fromB = 0;
        var inA = new ScriptedItem(null, "a", blocking: false, _ =>
        {
            bothInside.SignalAndWait(Patience);
            fromA = _api.Unreg(b);
            return 0;
        });
        var inB = new ScriptedItem(null, "b", blocking: false, _ =>
        {
            bothInside.SignalAndWait(Patience);
            fromB = _api.Unreg(a);
            return 0;
        });
        var queuedInA = new ScriptedItem(null, "queued in a", blocking: false, _ => 0);
        Assert.Equal(Success, _api.DeliverRaw(a, CApiScriptedUtility.Decode, 0, inA.PData));
        Assert.Equal(Success, _api.DeliverRaw(a, CApiScriptedUtility.Decode, 0, queuedInA.PData));
        Assert.Equal(Success, _api.DeliverRaw(b, CApiScriptedUtility.Decode, 0, inB.PData));

        var polls = new[]
        {
            Task.Run(() => _first.Integer("darksidesync.poll()")),
            Task.Run(() => _second.Integer("darksidesync.poll()")),
        };

        var both = Task.WhenAll(polls);
        Assert.True(await Task.WhenAny(both, Task.Delay(Patience)) == both, "two decodes unregistering each other's utility deadlocked");
        Assert.Equal(Success, fromA);
        Assert.Equal(Success, fromB);
        await both;
        // Both polls returned, so both unregisters are complete: the item queued behind in the
        // first state was cancelled by the second state's unregister (decode(NULL), once).
        Assert.Equal(1, queuedInA.Endings);
        Assert.Equal(-1, _first.Integer("darksidesync.poll()"));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(a));
        Assert.Equal((int)DssStatus.InvalidUtilId, _api.Unreg(b));
    }
}

using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// A C decode or ret that raises a Lua error (issue 7, defect 3): poll() or the
/// waitingthread_callback raises that error to its caller, the delivery ends there (its
/// producer is released with SUCCESS, no further hook call for its pData), and the utility
/// keeps working: later deliveries decode, unreg from another thread and stop complete.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class HookErrorSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Poll_must_raise_the_error_of_a_raising_C_decode()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = print })
            u:deliver("raise")
            print(pcall(darksidesync.poll))
            print("queue", darksidesync.queuesize())
            """);

        Assert.Equal(["false\tfaulty_utility: decode raised for item 1", "queue\t0"],
            result.AssertEnded("poll after a raising decode").Lines);
    }

    [Fact]
    public async Task Poll_must_raise_the_memory_error_of_a_C_decode()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = print })
            u:deliver("memerr")
            print(pcall(darksidesync.poll))
            """);

        Assert.Equal("false\tnot enough memory", result.AssertEnded("poll after a decode's memory error").Lines.Single());
    }

    [Fact]
    public async Task A_producer_blocked_on_a_raising_decode_must_be_released_with_SUCCESS()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("raise", "ok")
            queued(1)
            print(pcall(darksidesync.poll))
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("accepted", s.accepted, "released", s.released, "raised", s.raised)
            print("unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "false\tfaulty_utility: decode raised for item 1",
                "released\ttrue",
                "accepted\t1\treleased\t1\traised\t1",
                "unregister\tSUCCESS\tcheck\tok",
            ],
            result.AssertEnded("the producer of a delivery whose decode raised was never released").Lines);
    }

    [Fact]
    public async Task A_waitingthread_callback_must_raise_the_error_of_a_raising_C_ret_and_release_the_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "raise")
            queued(1)
            local _, _, args = darksidesync.poll()
            print(pcall(args[1], 5))
            print("again", select("#", args[1](5)))
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("accepted", s.accepted, "released", s.released, "raised", s.raised)
            print("unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "false\tfaulty_utility: ret raised for item 1",
                "again\t0",
                "released\ttrue",
                "accepted\t1\treleased\t1\traised\t1",
                "unregister\tSUCCESS\tcheck\tok",
            ],
            result.AssertEnded("the producer of a delivery whose ret raised was never released").Lines);
    }

    [Fact]
    public async Task A_raising_C_ret_run_by_the_garbage_collector_must_be_swallowed_and_release_the_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "raise")
            queued(1)
            do local _ = { darksidesync.poll() } end   -- the waitingthread_callback is dropped
            collectgarbage()
            collectgarbage()
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("released", s.released, "raised", s.raised, "garbage", s.garbage)
            print("unregister", u:unregister(), "check", u:check())
            """);

        Assert.Equal(
            [
                "released\ttrue",
                "released\t1\traised\t1\tgarbage\t0",
                "unregister\tSUCCESS\tcheck\tok",
            ],
            result.AssertEnded("the garbage collector's ret raised and its producer was never released").Lines);
    }

    [Fact]
    public async Task After_a_raising_decode_the_utility_must_keep_working_and_unreg_from_a_pthread_must_complete()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local got = {}
            local u = assert(fu.new{ callback = function(tag) got[#got + 1] = tag end })
            u:deliver("raise")
            u:deliver("ok")
            u:deliver("ok")
            print(pcall(darksidesync.poll))
            local n, f, args = darksidesync.poll()
            f(table.unpack(args))
            print("then", n, table.concat(got, ","))
            u:unregmany(1)                              -- unreg from a pthread, with item 3 queued
            u:join()
            local s = u:stats()
            print("unreg", s.unreg_success, "decode(NULL)", s.decode_null, "queue", darksidesync.queuesize())
            print("check", u:check())
            """);

        Assert.Equal(
            [
                "false\tfaulty_utility: decode raised for item 1",
                "then\t1\t2",
                "unreg\t1\tdecode(NULL)\t1\tqueue\t0",
                "check\tok",
            ],
            result.AssertEnded("unreg from a pthread after a raising decode").Lines);
    }

    [Fact]
    public async Task After_a_raising_ret_stop_must_complete_and_release_every_producer()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "raise")
            queued(1)
            local _, _, args = darksidesync.poll()
            print(pcall(args[1], 1))
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            darksidesync.stop()
            print("stopped", stopped(), "released", settled(u))
            u:join()
            local s = u:stats()
            print("cancels", s.cancels, "cancel unreg", s.cancel_unreg, "decode(NULL)", s.decode_null, "raised", s.raised)
            print("check", u:check())
            """);

        Assert.Equal(
            [
                "false\tfaulty_utility: ret raised for item 1",
                "stopped\ttrue\treleased\ttrue",
                "cancels\t1\tcancel unreg\tSUCCESS\tdecode(NULL)\t2\traised\t1",
                "check\tok",
            ],
            result.AssertEnded("stop after a raising ret").Lines);
    }
}

using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// Fine points of the contract that issue 7 settles: reg and getutilid after stop with an
/// API pointer kept from before (defect 4), poll's count after a decode that delivered
/// (defect 5), and a waitingthread_callback whose metatable says it is callable and cannot
/// be tampered with (defect 6).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class ContractFixesSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Reg_and_getutilid_with_an_API_pointer_kept_from_before_stop_must_return_NOT_STARTED()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })   -- the utility keeps the API pointer
            darksidesync.stop()
            print("reg", fu.apireg())
            print("getutilid", fu.apigetutilid(u))
            print("header", fu.headerreg())
            local t = debug.getregistry()["DSS.DarkSideSync"]
            print("registry", type(t), type(t and t.Version), t and t["DSS API 1v0"])
            """);

        Assert.Equal(
            [
                "reg\tNOT_STARTED\tfalse",
                "getutilid\tNOT_STARTED\tfalse",
                "header\tNOT_STARTED\tNOT_STARTED",
                "registry\ttable\tstring\tnil",
            ],
            result.AssertEnded("reg after stop").Lines);
    }

    [Fact]
    public async Task Reg_and_getutilid_in_a_state_that_never_loaded_DSS_must_return_NO_GLOBALS()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            print(fu.freshstate())
            """);

        Assert.Equal("NO_GLOBALS\tNO_GLOBALS", result.AssertEnded("reg in a fresh state").Lines.Single());
    }

    [Fact]
    public async Task Reg_without_cancel_and_getutilid_of_an_unknown_library_must_say_so()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            print(fu.nocancel())
            print(fu.apigetutilid())
            print(fu.apigetutilid(u))
            """);

        Assert.Equal(["NO_CANCEL_PROVIDED\tfalse", "UNKNOWN_LIB\tfalse", "SUCCESS\ttrue"],
            result.AssertEnded("reg and getutilid").Lines);
    }

    [Fact]
    public async Task Reg_and_getutilid_after_a_new_start_must_work_and_old_utilids_stay_invalid()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            darksidesync.stop()
            darksidesync.start()
            print("old", select(2, u:deliver("ok")), u:unregister())
            print("reg", fu.apireg())
            print("getutilid", fu.apigetutilid())
            """);

        Assert.Equal(["old\tINVALID_UTILID\tINVALID_UTILID", "reg\tSUCCESS\ttrue", "getutilid\tSUCCESS\ttrue"],
            result.AssertEnded("reg after stop and start").Lines);
    }

    [Fact]
    public async Task Poll_must_count_the_delivery_its_decode_made_and_return_it_next()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:deliver("deliver")                 -- decode delivers item 2 into the empty queue
            local n, f, args = darksidesync.poll()
            print("first", n, args[1], darksidesync.queuesize())
            n, f, args = darksidesync.poll()
            print("next", n, args[1], darksidesync.poll())
            """);

        Assert.Equal(["first\t1\t1\t1", "next\t0\t2\t-1"], result.AssertEnded("poll after a delivering decode").Lines);
    }

    [Fact]
    public async Task The_waitingthread_callback_must_have_a_callable_metatable()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:ask("ok", "ok")
            queued(1)
            local _, _, args = darksidesync.poll()
            local cb = args[1]
            local function callable(f) return type(f) == "function" or not not (getmetatable(f) or {}).__call end
            print("callable", callable(cb), "answer", cb(1))
            """);

        Assert.Equal("callable\ttrue\tanswer\tanswered", result.AssertEnded("getmetatable of the callback").Lines.Single());
    }

    [Fact]
    public async Task Tampering_with_the_callbacks_metatable_must_not_change_how_it_answers_or_is_collected()
    {
        await _lua.AddFaultyUtilityAsync();

        var result = await _lua.RunAsync(FaultLua.Prelude + """
            local u = assert(fu.new{ callback = answer })
            u:produce{ threads = 2, items = 1, blocking = true }
            queued(2)
            local _, _, a = darksidesync.poll()
            local mt = getmetatable(a[1])
            pcall(function() mt.__call = nil; mt.__gc = nil; mt.__index = {} end)
            print("answer", a[1](1))
            do local _ = { darksidesync.poll() } end  -- the second callback is dropped
            collectgarbage()
            collectgarbage()
            print("released", settled(u))
            u:join()
            local s = u:stats()
            print("answered", s.answered, "garbage", s.garbage, "check", u:check())
            """);

        Assert.Equal(["answer\tanswered", "released\ttrue", "answered\t1\tgarbage\t1\tcheck\tok"],
            result.AssertEnded("a tampered callback").Lines);
    }
}

using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// What a buggy C utility may pass to the API (through dss_producer's producer.raw): DSS
/// answers with the spec's codes, does not crash, and keeps working (the original segfaulted
/// on a NULL utilid in deliver and in unreg).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class BadInputCSampleSpec(NativeModuleFixture module)
{
    private const string Setup = CSampleLua.Prelude + """
        local producer = require "dss_producer"
        local raw, name = producer.raw, producer.statusname
        local u = assert(producer.new{ callback = print })
        local id = u:utilid()

        """;

    private readonly LuaProcess _lua = new(module);

    [Theory]
    [InlineData("raw.deliver(0)", "INVALID_UTILID")]                  // NULL utilid
    [InlineData("raw.deliver(0x7eadbeef)", "INVALID_UTILID")]         // bogus utilid
    [InlineData("raw.deliver(id + 8)", "INVALID_UTILID")]             // near a real one
    [InlineData("raw.unreg(0)", "INVALID_UTILID")]
    [InlineData("raw.unreg(0x7eadbeef)", "INVALID_UTILID")]
    [InlineData("raw.deliver(id, { decode = false })", "NO_DECODE_PROVIDED")]
    public async Task A_bad_call_must_return_its_code_queue_nothing_and_leave_DSS_working(string call, string code)
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + $"""
            print(name({call}))
            print("queued", darksidesync.queuesize())
            print("a good delivery", name(raw.deliver(id)), "then poll", darksidesync.poll(), "decoded", raw.stats().decode)
            """);

        Assert.Equal(
            [code, "queued\t0", "a good delivery\tSUCCESS\tthen poll\t0\tdecoded\t1"],
            result.AssertSucceeded().Lines);
    }

    [Fact]
    public async Task Reg_without_a_cancel_function_must_return_NULL_and_NO_CANCEL_PROVIDED()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + """
            local utilid, code = raw.reg{ cancel = false, libid = "fresh" }
            print(utilid, name(code))
            """);

        Assert.Equal("0\tNO_CANCEL_PROVIDED", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task A_second_registration_must_return_the_existing_utilid_and_ALREADY_REGISTERED()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + """
            local again, code = raw.reg{}
            print("same utilid", again == id, name(code))
            local second, code2, existing = producer.new{ callback = print }
            print("second producer", second, name(code2), existing == id)
            local accepted, rc = u:deliver(2)
            print("the first still delivers", accepted, name(rc), darksidesync.queuesize())
            """);

        Assert.Equal(
            ["same utilid\ttrue\tALREADY_REGISTERED", "second producer\tnil\tALREADY_REGISTERED\ttrue", "the first still delivers\t2\tSUCCESS\t2"],
            result.AssertSucceeded().Lines);
    }

    [Fact]
    public async Task Getutilid_must_return_the_registered_utilid_or_NULL_and_UNKNOWN_LIB()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + """
            local known, code = raw.getutilid()
            print("registered", known == id, name(code))
            local unknown, code2 = raw.getutilid("fresh")
            print("unknown", unknown, name(code2))
            """);

        Assert.Equal(["registered\ttrue\tSUCCESS", "unknown\t0\tUNKNOWN_LIB"], result.AssertSucceeded().Lines);
    }

    [Fact]
    public async Task After_unregister_deliver_and_unreg_must_return_INVALID_UTILID()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + """
            print(name(raw.unreg(id)), name(raw.unreg(id)), name(raw.deliver(id)), darksidesync.queuesize())
            """);

        Assert.Equal("SUCCESS\tINVALID_UTILID\tINVALID_UTILID\t0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task After_stop_reg_and_getutilid_must_return_NOT_STARTED_and_old_utilids_must_stay_invalid()
    {
        await CSampleBuild.AddToAsync(_lua);

        var result = await _lua.RunAsync(Setup + """
            darksidesync.stop()
            print("reg", name(select(2, raw.reg{ libid = "fresh" })), "getutilid", name(select(2, raw.getutilid())))
            local refused = name(raw.deliver(id))
            print("deliver refused", refused == "INVALID_UTILID" or refused == "NOT_STARTED")
            darksidesync.start()
            print("after start", name(raw.deliver(id)), name(raw.unreg(id)), darksidesync.queuesize())
            """);

        Assert.Equal(
            ["reg\tNOT_STARTED\tgetutilid\tNOT_STARTED", "deliver refused\ttrue", "after start\tINVALID_UTILID\tINVALID_UTILID\t0"],
            result.AssertSucceeded().Lines);
    }
}

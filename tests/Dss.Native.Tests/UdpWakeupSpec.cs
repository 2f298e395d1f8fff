using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// A Lua loop that sleeps only in socket.select on the dss socket and handles wake-ups with
/// dss.gethandler(): with either notification mode, every item delivered by pthreads is run
/// and none is left in the queue (a wake-up lost for good would leave the loop waiting).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class UdpWakeupSpec(NativeModuleFixture module)
{
    private const string SelectLoop = """
        local socket = require "socket"
        local dss = require "dss"
        local producer = require "threaded_producer"
        local THREADS, ITEMS = 4, 25000
        local skt = assert(dss.getsocket())
        local handler = dss.gethandler()
        local received, wakeups = 0, 0
        local run = producer.start(THREADS, ITEMS, function() received = received + 1 end)
        while received < THREADS * ITEMS do
          local readable = socket.select({ skt }, nil, 5)
          if #readable == 0 then break end -- no wake-up for 5 s: items are stranded
          wakeups = wakeups + 1
          handler(skt)
        end
        print("received", received, "left", dss.queuesize(), "refused", run:join())
        io.stderr:write("wake-ups: ", wakeups, "\n")
        """;

    private readonly LuaProcess _lua = new(module);

    [Fact]
    public async Task Per_delivery_wakeups_must_leave_nothing_stranded()
    {
        await _lua.AddThreadedProducerAsync();
        _lua.UseConfig("darksidesync.notification = per-delivery");

        var result = await _lua.RunAsync(SelectLoop);

        Assert.Equal("received\t100000\tleft\t0\trefused\t0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task Coalesced_wakeups_must_leave_nothing_stranded()
    {
        await _lua.AddThreadedProducerAsync();
        _lua.UseConfig("darksidesync.notification = coalesced");

        var result = await _lua.RunAsync(SelectLoop);

        Assert.Equal("received\t100000\tleft\t0\trefused\t0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task A_wakeup_datagram_must_carry_a_space_and_the_queue_size()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local socket = require "socket"
            local dss = require "dss"
            local skt = assert(dss.getsocket())
            require("threaded_producer").start(1, 1, print):join()
            socket.select({ skt }, nil, 5)
            print(string.format("%q", skt:receive()))
            """);

        Assert.Equal("\" 1\"", result.AssertSucceeded().Lines.Single());
    }
}

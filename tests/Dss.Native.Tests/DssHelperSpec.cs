using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>The dss helper module (dss.lua, on LuaSocket) as published beside the module.</summary>
[Collection(NativeCollection.Name)]
public sealed class DssHelperSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    [Fact]
    public async Task Getsocket_must_bind_a_port_of_50000_to_50200_and_set_it_as_the_DSS_port()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local dss = require "dss"
            local skt, port = dss.getsocket()
            local again, port2 = dss.getsocket()
            print(port >= 50000 and port <= 50200, port == darksidesync.getport())
            print(rawequal(skt, again), port == port2, skt:getsockname())
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("true\ttrue", lines[0]);
        Assert.StartsWith("true\ttrue\t127.0.0.1\t50", lines[1]);
    }

    [Fact]
    public async Task Getsocket_must_skip_ports_that_are_taken()
    {
        var result = await _lua.RunAsync("""
            local socket = require "socket"
            local dss = require "dss"
            local taken = {}
            for port = 50000, 50200 do
              local udp = socket.udp()
              if udp:setsockname("127.0.0.1", port) then taken[#taken + 1] = udp break end
            end
            local _, first_free = taken[1]:getsockname()
            local _, port = dss.getsocket()
            print(tonumber(port) > tonumber(first_free))
            """);

        Assert.Equal("true", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task The_handler_must_not_block_when_nothing_arrived()
    {
        var result = await _lua.RunAsync("""
            local dss = require "dss"
            local skt = dss.getsocket()
            local handler = dss.gethandler()
            local t0 = os.clock()
            print(handler(skt), handler(), dss.queuesize(), os.clock() - t0 < 2)
            """);

        Assert.Equal("0\t0\t0\ttrue", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task The_error_handler_must_see_callback_errors_and_nil_must_restore_the_default()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local dss = require "dss"
            local producer = require "threaded_producer"
            local skt = dss.getsocket()
            local handler = dss.gethandler()
            local function fail(t, i) error("callback " .. i .. " failed") end

            dss.seterrorhandler(function(err) print("handled", err) end)
            producer.start(1, 2, fail):join()
            print("ran", handler(skt))

            dss.seterrorhandler(nil)
            producer.start(1, 1, fail):join()
            print("ran", handler(skt))
            print(pcall(dss.seterrorhandler, "x"))
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Matches(@"^handled\t.*callback 1 failed$", lines[0]);
        Assert.Matches(@"^handled\t.*callback 2 failed$", lines[1]);
        Assert.Equal("ran\t2", lines[2]);
        Assert.Equal("ran\t1", lines[3]);
        Assert.StartsWith("false\t", lines[4]);
        Assert.Contains("bad argument #1 to 'seterrorhandler'", lines[4], StringComparison.Ordinal);
        Assert.Contains("callback 1 failed", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("stack traceback", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queuesize_must_count_what_waits_in_the_queue()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            require "darksidesync"
            local dss = require "dss"
            require("threaded_producer").start(3, 5, print):join()
            print(dss.queuesize())
            """);

        Assert.Equal("15", result.AssertSucceeded().Lines.Single());
    }
}

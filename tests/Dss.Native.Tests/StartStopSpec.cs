using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>stop() and start() from Lua, in the published module.</summary>
[Collection(NativeCollection.Name)]
public sealed class StartStopSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    [Fact]
    public async Task Start_after_stop_must_start_DSS_again()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            darksidesync.stop()
            print(pcall(darksidesync.queuesize))
            darksidesync.start(50123)
            print(darksidesync.queuesize(), darksidesync.getport())
            darksidesync.stop()
            darksidesync.start()
            print(darksidesync.queuesize(), darksidesync.getport(), darksidesync.poll())
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("false\tDSS was not started yet, or already stopped", lines[0]);
        Assert.Equal("0\t50123", lines[1]);
        Assert.Equal("0\t0\t-1", lines[2]);
    }

    [Fact]
    public async Task A_stopped_DSS_must_refuse_C_utilities_until_started_again()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local producer = require "threaded_producer"
            darksidesync.stop()
            print(pcall(producer.start, 1, 1, print))
            darksidesync.start()
            local received = 0
            local run = producer.start(2, 10, function() received = received + 1 end)
            print("refused", run:join())
            print("ran", darksidesync.drain(), received)
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.StartsWith("false\tthreaded_producer: ", lines[0]);
        Assert.Equal("refused\t0", lines[1]);
        Assert.Equal("ran\t20\t20", lines[2]);
    }
}

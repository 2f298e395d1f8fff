using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>Deliveries from pthreads that .NET never saw, through the C API 1v0.</summary>
[Collection(NativeCollection.Name)]
public sealed class PthreadDeliverySpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    [Fact]
    public async Task Every_item_of_many_pthreads_must_arrive_in_FIFO_order_per_producer()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local producer = require "threaded_producer"
            local THREADS, ITEMS = 16, 20000
            local last, received, out_of_order = {}, 0, 0
            for t = 1, THREADS do last[t] = 0 end
            local run = producer.start(THREADS, ITEMS, function(t, i)
              if i ~= last[t] + 1 then out_of_order = out_of_order + 1 end
              last[t] = i
              received = received + 1
            end)
            while received < THREADS * ITEMS do
              if darksidesync.wait(5) == 0 then break end
              darksidesync.drain()
            end
            print("received", received, "out of order", out_of_order, "refused", run:join(), "left", darksidesync.queuesize())
            """);

        Assert.Equal("received\t320000\tout of order\t0\trefused\t0\tleft\t0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task Poll_must_return_the_callback_and_its_arguments_from_C_decode()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local producer = require "threaded_producer"
            local function callback() end
            producer.start(1, 2, callback):join()
            local size, f, args = darksidesync.poll()
            print(size, f == callback, #args, args[1], args[2])
            print(darksidesync.poll())
            print(darksidesync.poll())
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("1\ttrue\t2\t1\t1", lines[0]);
        Assert.StartsWith("0\tfunction: ", lines[1]);
        Assert.Equal("-1", lines[2]);
    }
}

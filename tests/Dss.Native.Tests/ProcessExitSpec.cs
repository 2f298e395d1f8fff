using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>
/// lua_close runs stop-DSS and the process exits cleanly and promptly, even with .NET and C
/// threads still around (the module is never unloaded under them).
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class ProcessExitSpec(NativeModuleFixture module)
{
    // A process that waits for stop-timeout (10 s) or hangs fails; a busy 2-core machine does not.
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    private readonly LuaProcess _lua = new(module) { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Lua_must_exit_promptly_after_loading_the_module()
    {
        var result = await _lua.RunChunkAsync("local d = require 'darksidesync' d.setport(50150) d.wait(0.01)");

        result.AssertSucceeded();
        Assert.True(result.Elapsed < Prompt, $"took {result.Elapsed}");
    }

    [Fact]
    public async Task Lua_must_exit_cleanly_while_pthreads_are_still_delivering()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local producer = require "threaded_producer"
            darksidesync.setport(50151)
            run = producer.start(4, 1000000, function() end)
            darksidesync.wait(0.05)
            print("queued", darksidesync.queuesize() > 0)
            """);

        Assert.Equal("queued\ttrue", result.AssertSucceeded().Lines.Single());
        Assert.True(result.Elapsed < Prompt, $"took {result.Elapsed}");
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Lua_must_exit_cleanly_after_os_exit_without_closing_the_state()
    {
        var result = await _lua.RunChunkAsync("require 'darksidesync' os.exit(3, false)");

        Assert.Equal(3, result.ExitCode);
        Assert.True(result.Elapsed < Prompt, $"took {result.Elapsed}");
    }
}

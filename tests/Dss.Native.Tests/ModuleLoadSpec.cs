using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>require "darksidesync" in a stock lua5.4.</summary>
[Collection(NativeCollection.Name)]
public sealed class ModuleLoadSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    [Fact]
    public async Task Require_must_return_the_module_API()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local names = {}
            for name, value in pairs(darksidesync) do names[#names + 1] = name .. "=" .. type(value) end
            table.sort(names)
            print(table.concat(names, " "))
            """);

        Assert.Equal(
            "_VERSION=string dispatch=function drain=function getfd=function getport=function poll=function queuesize=function setlimit=function setport=function start=function stats=function stop=function wait=function",
            result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task Require_must_return_the_same_module_when_asked_again()
    {
        var result = await _lua.RunAsync("""
            local first = require "darksidesync"
            print(rawequal(first, require "darksidesync"), first.queuesize(), first.getport())
            """);

        Assert.Equal("true\t0\t0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task The_registry_must_publish_the_version_and_API_1v0_for_C_utilities()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            local entry = debug.getregistry()["DSS.DarkSideSync"]
            print(entry.Version == darksidesync._VERSION, entry.Version)
            print(type(entry["DSS API 1v0"]), math.type(entry["DSS API 1v0"]) == nil)
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("true\tDarkSideSync 1.0.0 (.NET)", lines[0]);
        Assert.Equal("userdata\ttrue", lines[1]);
    }

    [Fact]
    public async Task The_API_entry_must_be_a_light_userdata_pointing_at_the_1v0_struct()
    {
        await _lua.AddThreadedProducerAsync();

        var result = await _lua.RunAsync("""
            require "darksidesync"
            print(require("threaded_producer").apiinfo())
            """);

        Assert.Equal("true\tDSS API 1v0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task Loading_must_not_bring_OpenSSL_into_the_process()
    {
        // Akka's UID seed would (RandomNumberGenerator is OpenSSL on Linux): 3.7 MB of RSS.
        // The module substitutes it (src/Dss.Native/AkkaSubstitutions.xml); this holds it to that.
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            darksidesync.poll()
            local mapped = {}
            for line in io.lines("/proc/self/maps") do
              local lib = line:match("/(lib[%w]+)%.so[%.%d]*$")
              if lib == "libssl" or lib == "libcrypto" then mapped[lib] = true end
            end
            print(mapped.libssl or false, mapped.libcrypto or false)
            """);

        Assert.Equal("false\tfalse", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task Loading_must_print_nothing_on_stdout_or_stderr()
    {
        var result = await _lua.RunChunkAsync("require 'darksidesync'");

        result.AssertSucceeded();
        Assert.Equal("", result.Stdout);
        Assert.Equal("", result.Stderr);
    }
}

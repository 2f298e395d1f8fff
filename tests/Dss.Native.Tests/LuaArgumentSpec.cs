using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>Bad arguments from Lua are Lua errors with Lua's wording; the process lives on.</summary>
[Collection(NativeCollection.Name)]
public sealed class LuaArgumentSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    [Theory]
    [InlineData("'x'", "bad argument #1 to 'setport' (number expected, got string)")]
    [InlineData("", "bad argument #1 to 'setport' (number expected, got no value)")]
    [InlineData("1.5", "bad argument #1 to 'setport' (number has no integer representation)")]
    [InlineData("70000", "bad argument #1 to 'setport'")]
    [InlineData("-1", "bad argument #1 to 'setport'")]
    public async Task Setport_must_raise_a_clear_error_for_a_bad_port(string argument, string message)
    {
        string arguments = argument.Length == 0 ? "" : ", " + argument;

        var result = await _lua.RunAsync($"""
            local darksidesync = require "darksidesync"
            print(pcall(darksidesync.setport{arguments}))
            print("still running", darksidesync.getport())
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.StartsWith("false\t" + message, lines[0]);
        Assert.Equal("still running\t0", lines[1]);
    }

    [Theory]
    [InlineData("80.0", "80")]
    [InlineData("'80'", "80")]
    [InlineData("0", "0")]
    [InlineData("65535", "65535")]
    public async Task Setport_must_take_integers_as_luaL_checkinteger_does(string argument, string port)
    {
        var result = await _lua.RunAsync($"""
            local darksidesync = require "darksidesync"
            print(darksidesync.setport({argument}), darksidesync.getport())
            """);

        Assert.Equal($"1\t{port}", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task An_uncaught_argument_error_must_end_lua_with_a_message_not_a_crash()
    {
        var result = await _lua.RunChunkAsync("require('darksidesync').setport('x')");

        result.AssertFailedCleanly();
        Assert.Contains("bad argument #1 to 'setport'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wait_must_reject_a_negative_timeout_or_return_0_when_nothing_comes()
    {
        var result = await _lua.RunAsync("""
            local darksidesync = require "darksidesync"
            print(darksidesync.wait(0.01))
            print(pcall(darksidesync.wait, "soon"))
            """);

        var lines = result.AssertSucceeded().Lines;
        Assert.Equal("0", lines[0]);
        Assert.StartsWith("false\tbad argument #1 to 'wait'", lines[1]);
    }
}

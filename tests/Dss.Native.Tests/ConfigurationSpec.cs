using DarkSideSync.Native.Tests.Support;

namespace DarkSideSync.Native.Tests;

/// <summary>DARKSIDESYNC_CONFIG names a HOCON file over the embedded defaults.</summary>
[Collection(NativeCollection.Name)]
public sealed class ConfigurationSpec(NativeModuleFixture module)
{
    private readonly LuaProcess _lua = new(module);

    private const string TryRequire = """
        local ok, err = pcall(require, "darksidesync")
        print(ok, err)
        print("still running")
        """;

    [Fact]
    public async Task A_missing_config_file_must_make_require_raise_an_error_that_names_it()
    {
        _lua.Environment["DARKSIDESYNC_CONFIG"] = "/nonexistent/darksidesync.conf";

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded().Lines;

        Assert.StartsWith("false\tdarksidesync failed to load: DARKSIDESYNC_CONFIG=/nonexistent/darksidesync.conf: ", lines[0]);
        Assert.Equal("still running", lines[1]);
    }

    [Fact]
    public async Task An_invalid_setting_must_make_require_raise_an_error_that_says_why()
    {
        _lua.UseConfig("darksidesync.notification = sometimes");

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded().Lines;

        Assert.Contains("DARKSIDESYNC_CONFIG=", lines[0], StringComparison.Ordinal);
        Assert.Contains("darksidesync.notification must be per-delivery or coalesced, not 'sometimes'", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("darksidesync { notification = coalesced", "line 1: '{' is never closed")]
    [InlineData("darksidesync {\n  notification = coalesced\n  stop-timeout = 2s\n", "line 1: '{' is never closed")]
    [InlineData("darksidesync.notification = coalesced\n}", "line 2: '}' closes nothing")]
    [InlineData("akka { loggers = [ \"Akka.Event.DefaultLogger\" }", "line 1: '}' cannot close the '[' of line 1")]
    public async Task A_config_file_with_an_unbalanced_bracket_must_make_require_raise_an_error_that_names_it(string hocon, string why)
    {
        _lua.UseConfig(hocon);

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded().Lines;

        Assert.StartsWith("false\tdarksidesync failed to load: DARKSIDESYNC_CONFIG=", lines[0]);
        Assert.Contains(why, lines[0], StringComparison.Ordinal);
        Assert.Equal("still running", lines[1]);
    }

    [Fact]
    public async Task Brackets_inside_strings_and_comments_must_not_count()
    {
        _lua.UseConfig(""""
            # a comment with a { brace
            // and one with a ] bracket
            darksidesync {
              notification = "coalesced"
              ask-timeout = 5s # }
            }
            akka.loglevel = "ERROR"
            akka.test-only = """a { triple
            quoted ] string"""
            """");

        var result = await _lua.RunChunkAsync("print(require('darksidesync').queuesize())");

        Assert.Equal("0", result.AssertSucceeded().Lines.Single());
    }

    [Fact]
    public async Task An_uncaught_config_error_must_end_lua_with_the_message_not_a_crash()
    {
        _lua.UseConfig("darksidesync { stop-timeout = 0s }");

        var result = await _lua.RunChunkAsync("require 'darksidesync'");

        result.AssertFailedCleanly();
        Assert.Contains("darksidesync.stop-timeout must be greater than 0", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_config_file_must_load_quietly()
    {
        // A HOCON file may set any Akka key as well; the module still loads quietly.
        _lua.UseConfig("""
            darksidesync.notification = coalesced
            akka.loglevel = ERROR
            """);

        var result = await _lua.RunChunkAsync("print(require('darksidesync').queuesize())");

        Assert.Equal("0", result.AssertSucceeded().Stdout.Trim());
        Assert.Equal("", result.Stderr);
    }

    // The module's Akka is trimmed to the types src/Dss.Native/AkkaReflection.xml roots: the
    // ones Akka creates by name must still be there when a config file picks them.
    [Theory]
    [InlineData("akka.actor.default-dispatcher.executor = fork-join-executor")]
    [InlineData("akka.actor.default-dispatcher.executor = channel-executor")]
    [InlineData("akka.actor.internal-dispatcher.executor = channel-executor")]
    [InlineData("akka.actor.default-dispatcher { type = ForkJoinDispatcher, dedicated-thread-pool.thread-count = 2 }")]
    [InlineData("akka.actor.default-mailbox.mailbox-type = \"Akka.Dispatch.UnboundedDequeBasedMailbox\"")]
    [InlineData("akka.log-dead-letters = 10")]
    [InlineData("akka.logger-formatter = \"Akka.Event.DefaultLogMessageFormatter, Akka\"")]
    public async Task Akka_settings_that_name_types_must_load_quietly(string hocon)
    {
        _lua.UseConfig(hocon);

        var result = await _lua.RunChunkAsync("local d = require('darksidesync') print(d.poll(), d.queuesize())");

        Assert.Equal("-1\t0", result.AssertSucceeded().Stdout.Trim());
        Assert.Equal("", result.Stderr);
    }

    // Akka reads an actor's mailbox requirement from its interfaces (reflection): the
    // guardians require an unbounded queue, so a bounded default mailbox must be refused.
    [Fact]
    public async Task A_default_mailbox_that_breaks_the_guardians_requirement_must_make_require_fail()
    {
        _lua.UseConfig("akka.actor.default-mailbox.mailbox-type = \"Akka.Dispatch.BoundedMailbox\"");

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded();

        Assert.StartsWith("false\tdarksidesync failed to load: ", lines.Lines[0]);
        Assert.Contains("requires mailbox type [Akka.Dispatch.IUnboundedMessageQueueSemantics]", lines.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("darksidesync { stop-timeout = abc }", "darksidesync.stop-timeout: ")]
    [InlineData("darksidesync { ask-timeout = -5s }", "darksidesync.ask-timeout: ")]
    [InlineData("darksidesync = 5", "darksidesync must be a section")]
    public async Task A_malformed_setting_must_be_named_with_the_file(string content, string message)
    {
        _lua.UseConfig(content);

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded().Lines;

        Assert.StartsWith("false\tdarksidesync failed to load: DARKSIDESYNC_CONFIG=", lines[0]);
        Assert.Contains(message, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_named_as_the_config_file_must_be_called_a_directory()
    {
        _lua.Environment["DARKSIDESYNC_CONFIG"] = Path.GetTempPath();

        var lines = (await _lua.RunAsync(TryRequire)).AssertSucceeded().Lines;

        Assert.EndsWith("a directory, not a HOCON file.", lines[0]);
    }
}

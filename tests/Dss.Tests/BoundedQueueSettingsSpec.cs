using Akka.Configuration;
using Akka.TestKit.Xunit2;
using DarkSideSync.LuaSide;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>
/// HOCON's <c>darksidesync.queue.capacity</c> and <c>darksidesync.queue.overflow</c> are the
/// bound of every new state's queue (setlimit changes it per state); a bad value is a clear
/// error that names the key.
/// </summary>
public sealed class BoundedQueueSettingsSpec() : TestKit("darksidesync.queue { capacity = 3, overflow = fail }")
{
    [Fact]
    public void A_new_state_must_start_with_the_HOCON_capacity_and_overflow()
    {
        using var host = new LuaHost(Sys);
        var utility = TestUtility.Register(host, "hocon");

        Assert.Equal(DssStatus.Success, utility.Deliver(1));
        Assert.Equal(DssStatus.Success, utility.Deliver(2));
        Assert.Equal(DssStatus.Success, utility.Deliver(3));
        Assert.Equal(DssStatus.QueueFull, utility.Deliver(4));
        Assert.Equal("3 fail", host.String("(function() local c, o = darksidesync.setlimit(3) return tostring(c) .. ' ' .. o end)()"));
    }

    [Fact]
    public void Setlimit_must_change_one_state_and_leave_the_defaults_of_others()
    {
        using var first = new LuaHost(Sys);
        first.Run("darksidesync.setlimit(nil, 'block')");
        using var second = new LuaHost(Sys);

        LuaBinding.Find(second.State, out var binding);
        Assert.Equal(3, binding!.Engine!.Mailbox.Limit!.Capacity);
        Assert.True(binding.Engine.Mailbox.Limit.FailWhenFull);
    }

    [Fact]
    public void The_reference_configuration_must_default_to_an_unbounded_queue_with_overflow_block()
    {
        var settings = DssSettings.Create(DssSettings.DefaultConfig);

        Assert.Null(settings.QueueCapacity);
        Assert.Equal(QueueOverflow.Block, settings.QueueOverflow);
    }

    [Theory]
    [InlineData("darksidesync.queue.capacity = 0", "darksidesync.queue.capacity must be unbounded or a positive integer")]
    [InlineData("darksidesync.queue.capacity = lots", "darksidesync.queue.capacity must be unbounded or a positive integer")]
    [InlineData("darksidesync.queue.capacity = 2.5", "darksidesync.queue.capacity must be unbounded or a positive integer")]
    [InlineData("darksidesync.queue.capacity = 99999999999", "darksidesync.queue.capacity must be unbounded or a positive integer")]
    [InlineData("darksidesync.queue.overflow = drop", "darksidesync.queue.overflow must be block or fail, not 'drop'")]
    public void A_bad_queue_setting_must_be_an_error_naming_the_key(string hocon, string message)
    {
        var config = ConfigurationFactory.ParseString(hocon).WithFallback(DssSettings.DefaultConfig);

        var error = Assert.Throws<ConfigurationException>(() => DssSettings.Create(config));

        Assert.StartsWith(message, error.Message);
    }
}

using Akka.Actor;
using Akka.TestKit.Xunit2;
using DarkSideSync.Actors;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>The actors: one DssSupervisor per Lua state, one child per utility registration.</summary>
public sealed class DssSupervisorSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaHost _host;

    public DssSupervisorSpec() => _host = new LuaHost(Sys);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Every_registration_is_a_child_of_the_states_supervisor()
    {
        var first = TestUtility.Register(_host, "first").Utility;
        var second = TestUtility.Register(_host, "second").Utility;
        Assert.Equal(first.Actor.Path.Parent, second.Actor.Path.Parent);
        Assert.StartsWith("darksidesync-", first.Actor.Path.Parent.Name);
        Assert.Equal($"utility-{second.UtilId}", second.Actor.Path.Name);
    }

    [Fact]
    public async Task Utility_actor_stops_when_the_utility_unregisters()
    {
        var utility = TestUtility.Register(_host, "leaving").Utility;
        Watch(utility.Actor);
        Assert.Equal(DssStatus.Success, utility.Unregister());
        await ExpectTerminatedAsync(utility.Actor);
    }

    [Fact]
    public async Task Stop_dss_cancels_utilities_newest_first_and_stops_every_actor()
    {
        var order = new List<string>();
        var utilities = new[] { "a", "b", "c" }
            .Select(name => TestUtility.Register(_host, name, onCancel: () => { lock (order) { order.Add(name); } }).Utility)
            .ToArray();
        var supervisor = await Sys.ActorSelection(utilities[0].Actor.Path.Parent).ResolveOne(Patience);
        foreach (var utility in utilities)
        {
            Watch(utility.Actor);
        }
        Watch(supervisor);

        _host.Run("darksidesync.stop()");

        Assert.Equal(["c", "b", "a"], order);
        Assert.All(utilities, u => Assert.False(u.IsRegistered));
        var terminated = new HashSet<IActorRef>();
        for (int i = 0; i < 4; i++)
        {
            terminated.Add((await ExpectMsgAsync<Terminated>(Patience)).ActorRef);
        }
        Assert.Contains(supervisor, terminated);
    }

    [Fact]
    public void A_cancel_that_does_not_unregister_is_unregistered_by_dss()
    {
        var stubborn = TestUtility.Register(_host, "stubborn", unregisterOnCancel: false);
        _host.Run("darksidesync.stop()");
        Assert.Equal(1, stubborn.Cancels);
        Assert.False(stubborn.Utility.IsRegistered);
    }

    [Fact]
    public void Closing_the_lua_state_runs_stop_dss()
    {
        var utility = TestUtility.Register(_host, "closing");
        _host.Close();
        Assert.Equal(1, utility.Cancels);
        Assert.False(utility.Utility.IsRegistered);
    }

    [Fact]
    public async Task A_failed_utility_actor_is_stopped_and_its_utility_unregistered()
    {
        var utility = TestUtility.Register(_host, "fragile");
        var blocked = utility.Ask(1);
        Watch(utility.Utility.Actor);

        utility.Utility.Actor.Tell(Kill.Instance);

        await ExpectTerminatedAsync(utility.Utility.Actor);
        await utility.Utility.WhenUnregistered.WaitAsync(Patience);
        var cancelled = await Assert.ThrowsAsync<DssDeliveryCanceledException>(() => blocked.WaitAsync(Patience));
        Assert.False(cancelled.ReachedLua);
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public async Task An_actor_delivers_with_deliver_and_gets_the_hand_over_status()
    {
        var utility = TestUtility.Register(_host, "actor-deliver");
        _host.Run("got = nil function on_item(x) got = x end");

        utility.Utility.Actor.Tell(new UtilityActor.Deliver(lua =>
        {
            utility.PushCallback(lua);
            lua.PushInteger(42);
            return 2;
        }));

        Assert.Equal(DssStatus.Success, (await ExpectMsgAsync<UtilityActor.Delivered>(Patience)).Status);
        _host.Run("darksidesync.drain()");
        Assert.Equal(42, _host.Integer("got"));
    }

    [Fact]
    public async Task An_actor_asks_lua_and_receives_the_answer_as_a_message()
    {
        var utility = TestUtility.Register(_host, "actor-ask");
        _host.Run("function on_item(answer, x) answer(x * 2) end");
        var request = new UtilityActor.Request<long?>(
            lua =>
            {
                utility.PushCallback(lua);
                lua.PushInteger(21);
                return 2;
            },
            (lua, garbage) => lua.ToInteger(1));

        var answer = utility.Utility.Actor.Ask<UtilityActor.Answered<long?>>(request, Patience);
        await AwaitConditionAsync(() => Task.FromResult(utility.Utility.IsRegistered && QueueSize() == 1), Patience);
        _host.Run("darksidesync.drain()");

        Assert.Equal(42L, (await answer).Value);
    }

    [Fact]
    public async Task An_actors_request_that_dss_cancels_fails_with_the_reason()
    {
        var utility = TestUtility.Register(_host, "actor-cancelled");
        utility.Utility.Actor.Tell(new UtilityActor.Request<object?>(lua => utility.PushCallback(lua), (_, _) => null));
        await AwaitConditionAsync(() => Task.FromResult(QueueSize() == 1), Patience);

        _host.Run("darksidesync.stop()");

        var failure = await ExpectMsgAsync<Status.Failure>(Patience);
        var cancelled = Assert.IsType<DssDeliveryCanceledException>(failure.Cause);
        Assert.Equal(CancelReason.DssStopped, cancelled.Reason);
    }

    private long QueueSize() => _host.Integer("darksidesync.queuesize()");

    [Fact]
    public async Task A_malformed_request_fails_for_its_sender_only_and_the_utility_carries_on()
    {
        var utility = TestUtility.Register(_host, "sturdy");
        var innocent = utility.Ask(7);
        Watch(utility.Utility.Actor);

        utility.Utility.Actor.Tell(new UtilityActor.Request<object?>(static _ => 0, static (_, _) => null, TimeSpan.FromSeconds(-2)));
        Assert.IsType<ArgumentOutOfRangeException>((await ExpectMsgAsync<Status.Failure>(Patience)).Cause);
        utility.Utility.Actor.Tell(new UtilityActor.Deliver(null!));
        Assert.IsType<ArgumentNullException>((await ExpectMsgAsync<Status.Failure>(Patience)).Cause);

        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.True(utility.Utility.IsRegistered);
        _host.Run("function on_item(answer, x) answer(x * 2) end darksidesync.drain()");
        Assert.Equal(14, await innocent.WaitAsync(Patience));
    }
}

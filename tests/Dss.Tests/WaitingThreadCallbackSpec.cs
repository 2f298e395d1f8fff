using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>Blocking deliveries: args[1], the waitingthread_callback, as the spec defines it.</summary>
public sealed class WaitingThreadCallbackSpec : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly LuaHost _host;
    private readonly TestUtility _utility;

    public WaitingThreadCallbackSpec()
    {
        _host = new LuaHost(Sys);
        _utility = TestUtility.Register(_host, "blocking");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public async Task Calling_args1_hands_the_values_to_return_and_completes_the_producer()
    {
        var answer = _utility.Ask(20);
        _host.Run("function on_item(x) end local n, cb, args = darksidesync.poll() assert(type(args[1]) == 'userdata') assert(args[2] == 20) args[1](args[2] + 1)");
        Assert.Equal(21, await answer.WaitAsync(Patience));
    }

    [Fact]
    public async Task Its_metatable_as_lua_sees_it_is_callable_and_calling_that_answers_too()
    {
        var answer = _utility.Ask(8);
        _host.Run("function on_item() end n, cb, args = darksidesync.poll()");
        Assert.True(_host.Boolean("type(getmetatable(args[1])) == 'table' and getmetatable(args[1]).__call ~= nil"));
        _host.Run("getmetatable(args[1]).__call(args[1], 9)");
        Assert.Equal(9, await answer.WaitAsync(Patience));
    }

    [Fact]
    public void The_stand_in_call_ignores_anything_but_a_callback()
    {
        _ = _utility.Ask(3);
        _host.Run("function on_item() end n, cb, args = darksidesync.poll() call = getmetatable(args[1]).__call");
        Assert.Equal(0, _host.Integer("select('#', call(io.stdout, 1)) + select('#', call(1)) + select('#', call()) + select('#', call({}))"));
        _host.Run("args[1](0)");
    }

    [Fact]
    public async Task Changing_the_metatable_lua_sees_changes_nothing()
    {
        var answer = _utility.Ask(4);
        _host.Run("function on_item() end do local n, cb, args = darksidesync.poll() local mt = getmetatable(args[1]) mt.__gc = nil mt.__call = nil end collectgarbage() collectgarbage()");
        Assert.Equal(-1, await answer.WaitAsync(Patience)); // the real __gc still ran: "no answer"
    }

    [Fact]
    public async Task The_callback_is_args1_and_the_decoded_values_follow()
    {
        _ = _utility.Ask(5);
        _host.Run("function on_item() end n, cb, args = darksidesync.poll()");
        Assert.Equal(2, _host.Integer("#args"));
        Assert.Equal(5, _host.Integer("args[2]"));
        Assert.True(_host.Boolean("cb == on_item"));
        _host.Run("args[1](0)");
    }

    [Fact]
    public async Task Calling_it_again_is_a_no_op_that_returns_nothing()
    {
        var answer = _utility.Ask(1);
        _host.Run("function on_item() end local n, cb, args = darksidesync.poll() answer = args[1] answer(1)");
        Assert.Equal(1, await answer.WaitAsync(Patience));
        Assert.Equal(0, _host.Integer("select('#', answer(2))"));
    }

    [Fact]
    public async Task Dropping_it_uncalled_releases_the_producer_through_gc_with_garbage_set()
    {
        var answer = _utility.Ask(1);
        _host.Run("function on_item() end do local n, cb, args = darksidesync.poll() end collectgarbage() collectgarbage()");
        Assert.Equal(-1, await answer.WaitAsync(Patience)); // TestUtility answers -1 for garbage
    }

    [Fact]
    public async Task Return_values_left_on_the_stack_come_back_to_lua()
    {
        var request = _utility.Utility.DeliverAndWaitAsync(
            0,
            (lua, _) => _utility.PushCallback(lua),
            static (lua, garbage) =>
            {
                lua.PushString("thanks");
                return "answered";
            });
        _host.Run("function on_item() end local n, cb, args = darksidesync.poll() results = table.pack(args[1]('x'))");
        Assert.Equal(1, _host.Integer("results.n"));
        Assert.Equal("thanks", _host.String("results[1]"));
        Assert.Equal("answered", await request.WaitAsync(Patience));
    }
}

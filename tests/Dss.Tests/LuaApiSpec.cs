using Akka.Actor;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

/// <summary>The darksidesync module as Lua code sees it.</summary>
public sealed class LuaApiSpec : TestKit
{
    private readonly LuaHost _host;

    public LuaApiSpec() => _host = new LuaHost(Sys);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _host.Dispose();
        }
        base.Dispose(disposing);
    }

    [Fact]
    public void Require_returns_the_module_with_the_spec_functions()
    {
        foreach (var name in new[] { "poll", "queuesize", "setport", "getport", "start", "stop", "wait", "drain", "dispatch", "setlimit", "getfd", "stats" })
        {
            Assert.Equal("function", _host.String($"type(darksidesync.{name})"));
        }
        Assert.True(_host.Boolean("require 'darksidesync' == darksidesync"));
    }

    [Fact]
    public void Registry_publishes_the_version_and_the_c_api()
    {
        _host.Run("local t = debug.getregistry()['DSS.DarkSideSync'] api_type = type(t['DSS API 1v0']) version = t.Version");
        Assert.Equal("userdata", _host.String("api_type"));
        Assert.Equal(DssModule.Version, _host.String("version"));
    }

    [Fact]
    public void Poll_on_an_empty_queue_returns_minus_one_only()
    {
        Assert.Equal(1, _host.Integer("select('#', darksidesync.poll())"));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
    }

    [Fact]
    public void Poll_returns_the_remaining_count_the_callback_and_its_arguments()
    {
        var utility = TestUtility.Register(_host, "args");
        _host.Run("function on_item(x) return x end");
        utility.Deliver(7);
        utility.Deliver(8);
        _host.Run("count, callback, args = darksidesync.poll()");
        Assert.Equal(1, _host.Integer("count"));
        Assert.True(_host.Boolean("callback == on_item"));
        Assert.Equal(7, _host.Integer("args[1]"));
        Assert.Equal(1, _host.Integer("#args"));
    }

    [Fact]
    public void A_decode_that_pushes_nothing_completes_the_delivery_and_poll_returns_the_count_only()
    {
        var utility = TestUtility.Register(_host, "nothing");
        utility.Utility.Deliver(0, static (_, _) => 0);
        utility.Utility.Deliver(0, static (_, _) => 0);
        Assert.Equal(1, _host.Integer("select('#', darksidesync.poll())"));
        Assert.Equal(0, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public void Setport_accepts_integers_as_luaL_checkinteger_does()
    {
        Assert.Equal(1, _host.Integer("darksidesync.setport(80)"));
        Assert.Equal(80, _host.Integer("darksidesync.getport()"));
        _host.Run("darksidesync.setport(81.0)");
        Assert.Equal(81, _host.Integer("darksidesync.getport()"));
        _host.Run("darksidesync.setport('82')");
        Assert.Equal(82, _host.Integer("darksidesync.getport()"));
        _host.Run("darksidesync.setport(0)");
        Assert.Equal(0, _host.Integer("darksidesync.getport()"));
    }

    [Theory]
    [InlineData("darksidesync.setport()", "bad argument #1 to 'setport' (number expected, got no value)")]
    [InlineData("darksidesync.setport('http')", "bad argument #1 to 'setport' (number expected, got string)")]
    [InlineData("darksidesync.setport({})", "bad argument #1 to 'setport' (number expected, got table)")]
    [InlineData("darksidesync.setport(80.5)", "bad argument #1 to 'setport' (number has no integer representation)")]
    [InlineData("darksidesync.setport(-1)", "bad argument #1 to 'setport' (port must be from 0 to 65535, got -1)")]
    [InlineData("darksidesync.setport(65536)", "bad argument #1 to 'setport' (port must be from 0 to 65535, got 65536)")]
    [InlineData("darksidesync.start('x')", "bad argument #1 to 'start' (number expected, got string)")]
    [InlineData("darksidesync.wait('soon')", "bad argument #1 to 'wait' (number expected, got string)")]
    [InlineData("darksidesync.wait(-1)", "bad argument #1 to 'wait' (seconds must be from 0 to 2147483, got -1)")]
    public void Bad_arguments_raise_a_lua_error_in_the_callers_name(string call, string message)
    {
        string error = _host.Error("local port = 1\n" + call);
        Assert.EndsWith($":2: {message}", error); // line 2: the caller's line, not the wrapper's
        Assert.Equal(0, _host.Integer("darksidesync.getport()"));
    }

    [Fact]
    public void After_stop_every_function_but_start_and_stop_raises_not_started()
    {
        _host.Run("darksidesync.stop()");
        foreach (var call in new[] { "poll()", "queuesize()", "setport(1)", "getport()", "wait(0)", "drain()", "dispatch()", "setlimit(1)", "getfd()", "stats()" })
        {
            Assert.EndsWith("DSS was not started yet, or already stopped", _host.Error("darksidesync." + call));
        }
        _host.Run("darksidesync.stop()");
    }

    [Fact]
    public void Stop_removes_the_api_from_the_registry_and_start_publishes_it_again()
    {
        _host.Run("darksidesync.stop()");
        // The table stays (so a utility can tell "stopped" from "never loaded"); the API goes.
        Assert.True(_host.Boolean("debug.getregistry()['DSS.DarkSideSync']['DSS API 1v0'] == nil"));
        _host.Run("darksidesync.start(5000)");
        Assert.Equal(5000, _host.Integer("darksidesync.getport()"));
        Assert.True(_host.Boolean("type(debug.getregistry()['DSS.DarkSideSync']['DSS API 1v0']) == 'userdata'"));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public void Wait_returns_zero_when_nothing_arrives_in_time()
    {
        Assert.Equal(0, _host.Integer("darksidesync.wait(0.05)"));
    }

    [Fact]
    public void Wait_wakes_up_when_another_thread_delivers()
    {
        var utility = TestUtility.Register(_host, "waker");
        var threads = new RawThreads();
        threads.Start("producer", () =>
        {
            Thread.Sleep(100);
            Assert.Equal(DssStatus.Success, utility.Deliver(1));
        });
        Assert.Equal(1, _host.Integer("darksidesync.wait(30)"));
        threads.Join(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Drain_runs_every_queued_callback_and_reports_errors_to_the_handler()
    {
        var utility = TestUtility.Register(_host, "drain");
        _host.Run("seen = {} function on_item(x) if x == 2 then error('two') end seen[#seen + 1] = x end");
        for (int i = 1; i <= 3; i++)
        {
            utility.Deliver(i);
        }
        _host.Run("errors = {} ran = darksidesync.drain(function(e) errors[#errors + 1] = e end)");
        Assert.Equal(3, _host.Integer("ran"));
        Assert.Equal("1,3", _host.String("table.concat(seen, ',')"));
        Assert.EndsWith("two", _host.String("errors[1]"));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [Fact]
    public void Start_without_a_port_while_running_keeps_the_port()
    {
        _host.Run("darksidesync.setport(50123) darksidesync.start()");
        Assert.Equal(50123, _host.Integer("darksidesync.getport()"));
    }

    [Fact]
    public async Task Require_raises_the_reason_when_dss_cannot_start()
    {
        var stopped = ActorSystem.Create("already-terminated");
        await stopped.Terminate();
        using var lua = new KeraLua.Lua();
        DssModule.Preload(lua.Handle, stopped);

        Assert.True(lua.DoString("require 'darksidesync'")); // true: it raised an error
        Assert.StartsWith("darksidesync failed to load:", lua.ToString(-1));
        lua.Pop(1);
        lua.DoString("return package.loaded.darksidesync == nil");
        Assert.True(lua.ToBoolean(-1));
    }

    [Fact]
    public void A_decode_may_push_more_values_than_lua_guarantees_a_c_function()
    {
        const int arguments = 500;
        var utility = TestUtility.Register(_host, "wide");
        _host.Run("function on_wide(...) n, last = select('#', ...), select(-1, ...) end");
        utility.Utility.Deliver(arguments, static (lua, count) =>
        {
            KeraLua.Lua.FromIntPtr(lua.State).GetGlobal("on_wide");
            for (int i = 1; i <= count; i++)
            {
                lua.PushInteger(i);
            }
            return count + 1;
        });
        _host.Run("darksidesync.drain()");

        Assert.Equal(arguments, _host.Integer("n"));
        Assert.Equal(arguments, _host.Integer("last"));
    }

    [Fact]
    public void Poll_raises_its_errors_in_the_callers_name_without_a_wrapper()
    {
        _host.Run("darksidesync.stop()");
        Assert.True(_host.Boolean("debug.getinfo(darksidesync.poll, 'S').what == 'C'"));
        string error = _host.Error("local x = 1\nlocal n, cb, args = darksidesync.poll()");
        Assert.EndsWith(":2: DSS was not started yet, or already stopped", error);
    }

    [Fact]
    public void Drain_returns_what_ran_when_a_callback_stops_dss()
    {
        var utility = TestUtility.Register(_host, "stopper");
        _host.Run("seen = 0 function on_item(x) seen = seen + 1 if x == 2 then darksidesync.stop() end end");
        for (int i = 1; i <= 4; i++)
        {
            utility.Deliver(i);
        }

        Assert.Equal(2, _host.Integer("darksidesync.drain()"));
        Assert.Equal(2, _host.Integer("seen"));
    }

    [Fact]
    public void Drain_rejects_an_error_handler_that_is_not_a_function()
    {
        string error = _host.Error("local x = 1\ndarksidesync.drain(5)");
        Assert.EndsWith(":2: bad argument #1 to 'drain' (function expected, got number)", error);
    }
}

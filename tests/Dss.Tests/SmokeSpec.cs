using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;

namespace DarkSideSync.Tests;

public sealed class SmokeSpec : TestKit
{
    [Fact]
    public void A_delivery_reaches_a_lua_callback()
    {
        using var host = new LuaHost(Sys);
        host.Run("received = {} function on_event(x, y) received[#received + 1] = x .. y end");
        Assert.Equal(DssStatus.Success, DssUtility.Register(host.State, "smoke", _ => { }, out var utility));
        Assert.Equal(DssStatus.Success, utility!.Deliver(21, static (lua, n) =>
        {
            KeraLua.Lua.FromIntPtr(lua.State).GetGlobal("on_event");
            lua.PushInteger(n);
            lua.PushString("!");
            return 3;
        }));
        Assert.Equal(1, host.Integer("darksidesync.queuesize()"));
        host.Run("local n, cb, args = darksidesync.poll() assert(n == 0) cb(table.unpack(args))");
        Assert.Equal("21!", host.String("received[1]"));
        Assert.Equal(-1, host.Integer("darksidesync.poll()"));
    }
}

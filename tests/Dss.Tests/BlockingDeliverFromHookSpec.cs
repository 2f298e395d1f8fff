using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using lua_State = nint;

namespace DarkSideSync.Tests;

/// <summary>
/// A blocking C deliver made from inside a hook would wait for the Lua thread that runs the
/// hook: DSS refuses it with WOULD_DEADLOCK (-111) instead of hanging, and queues nothing.
/// </summary>
public sealed unsafe class BlockingDeliverFromHookSpec : TestKit
{
    private const int WouldDeadlock = -111;

    // What the hooks below see; one spec instance at a time uses them (xunit runs a class's tests in sequence).
    private static CApi? _api;
    private static int _statusInsideDecode;
    private static int _innerDecodes;

    private readonly LuaHost _host;

    public BlockingDeliverFromHookSpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("function on_item() end");
        _api = CApi.FromRegistry(_host.Lua)!;
        _statusInsideDecode = 0;
        _innerDecodes = 0;
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
    public void A_blocking_deliver_from_inside_decode_must_return_WOULD_DEADLOCK_and_queue_nothing()
    {
        nint utilId = _api!.Reg(_host.State, CApiTestUtility.NewLibId(), new CApiLog(), "hooked", out _);

        Assert.Equal((int)DssStatus.Success, _api.DeliverRaw(utilId, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&DecodeThatDeliversBlocking, 0, 0));
        Assert.Equal(0, _host.Integer("darksidesync.poll()")); // returned: the Lua thread did not block

        Assert.Equal(WouldDeadlock, _statusInsideDecode);
        Assert.Equal(0, _host.Integer("darksidesync.queuesize()"));
        Assert.Equal(0, Volatile.Read(ref _innerDecodes)); // the refused item's hooks never ran
    }

    [Fact]
    public void A_non_blocking_deliver_from_inside_decode_must_be_queued_and_counted_by_that_poll()
    {
        nint utilId = _api!.Reg(_host.State, CApiTestUtility.NewLibId(), new CApiLog(), "hooked", out _);

        Assert.Equal((int)DssStatus.Success, _api.DeliverRaw(utilId, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&DecodeThatDeliversAgain, 0, 0));

        Assert.Equal(1, _host.Integer("darksidesync.poll()")); // the item the decode delivered is still queued
        Assert.Equal((int)DssStatus.Success, _statusInsideDecode);
        Assert.Equal(0, _host.Integer("darksidesync.poll()"));
        Assert.Equal(1, Volatile.Read(ref _innerDecodes));
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeThatDeliversBlocking(lua_State L, nint pData, nint utilId)
    {
        if (L != 0)
        {
            _statusInsideDecode = _api!.DeliverRaw(utilId, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&CountingDecode, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)&NoAnswer, 0);
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeThatDeliversAgain(lua_State L, nint pData, nint utilId)
    {
        if (L != 0)
        {
            _statusInsideDecode = _api!.DeliverRaw(utilId, (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&CountingDecode, 0, 0);
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CountingDecode(lua_State L, nint pData, nint utilId)
    {
        Interlocked.Increment(ref _innerDecodes);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NoAnswer(lua_State L, nint pData, nint utilId, int garbage) => 0;
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using static DarkSideSync.Tests.Support.CApiLua;
using lua_State = nint;

namespace DarkSideSync.Tests;

/// <summary>
/// What a C decode does to its own stack frame is its business, but DSS believes only what is
/// there: a decode that empties its frame (lua_settop(L, 0)) and then claims values gets none.
/// </summary>
public sealed unsafe class CDecodeStackSpec : TestKit
{
    private readonly LuaHost _host;
    private readonly CApi _api;

    public CDecodeStackSpec()
    {
        _host = new LuaHost(Sys);
        _api = CApi.FromRegistry(_host.Lua)!;
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
    public void A_decode_that_empties_its_frame_and_claims_values_ends_its_delivery_with_nothing_for_lua()
    {
        nint utilId = _api.Reg(_host.State, CApiTestUtility.NewLibId(), new CApiLog(), "emptying", out _);
        var decode = (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&EmptyingDecode;
        Assert.Equal((int)DssStatus.Success, _api.DeliverRaw(utilId, decode, 0, 0));
        Assert.Equal((int)DssStatus.Success, _api.DeliverRaw(utilId, decode, 0, 0));

        // Not an error of DSS's: nothing is logged.
        EventFilter.Error().Expect(0, () =>
        {
            Assert.Equal(1, _host.Integer("darksidesync.poll()")); // the count only: the next item is still queued
            _host.Run("marker = 'the stack below poll is intact'");
            Assert.Equal(0, _host.Integer("darksidesync.poll()"));
        });
        Assert.Equal(-1, _host.Integer("darksidesync.poll()"));
        Assert.Equal("the stack below poll is intact", _host.String("marker"));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int EmptyingDecode(lua_State L, nint pData, nint utilId)
    {
        if (L == 0)
        {
            return 0;
        }
        lua_settop(L, 0);
        return 3;
    }
}

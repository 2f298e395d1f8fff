using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Akka.TestKit.Xunit2;
using DarkSideSync.Tests.Support;
using KeraLua;
using static DarkSideSync.Interop.LuaNative;
using lua_State = nint;

namespace DarkSideSync.Tests;

/// <summary>
/// In steady state a non-blocking delivery allocates nothing on the managed heap: neither on
/// the producer's thread (C# or C API) nor on the Lua thread that dispatches it.
/// </summary>
/// <remarks>
/// Runs alone (in the soak collection): the node pools are process-wide, and producers of
/// specs running beside it would take the nodes this spec's Lua thread hands back.
/// </remarks>
[Collection(SoakCollection.Name)]
public sealed unsafe class AllocationFreeDeliverySpec : TestKit
{
    private const int Round = 10_000;
    private const int Rounds = 100; // 1M measured deliveries
    // A few hundred bytes over the whole run at most (a thread-static, a resized array): far below one byte per delivery.
    private const double MaxBytesPerDelivery = 0.01;

    private static int _callbackRef; // the Lua callback the C decode pushes
    private readonly LuaHost _host;
    private readonly int _dispatchAll; // registry ref of a Lua function that dispatches until the queue is empty

    public AllocationFreeDeliverySpec()
    {
        _host = new LuaHost(Sys);
        _host.Run("""
            received = 0
            function on_item(v) received = received + 1 end
            function dispatch_all()
              local dispatch, queuesize = darksidesync.dispatch, darksidesync.queuesize
              while queuesize() > 0 do dispatch() end
            end
            """);
        _host.Lua.GetGlobal("dispatch_all");
        _dispatchAll = _host.Lua.Ref(LuaRegistry.Index);
        _host.Lua.GetGlobal("on_item");
        _callbackRef = _host.Lua.Ref(LuaRegistry.Index);
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
    public void A_csharp_delivery_allocates_nothing_in_steady_state()
    {
        var utility = TestUtility.Register(_host, "allocation-free-csharp").Utility;
        var callback = new LuaReference(_callbackRef);
        int refused = 0;
        var bytes = Measure(() =>
        {
            for (int i = 0; i < Round; i++)
            {
                var status = utility.Deliver((callback, (long)i), static (lua, item) =>
                {
                    lua.Push(item.callback);
                    lua.PushInteger(item.Item2);
                    return 2;
                });
                refused += status == DssStatus.Success ? 0 : 1; // no Assert here: xunit's allocate
            }
        });

        Assert.Equal(0, refused);

        Assert.True(bytes.Producer / (double)(Round * Rounds) < MaxBytesPerDelivery, $"the producer allocated {bytes.Producer} bytes for {Round * Rounds} deliveries");
        Assert.True(bytes.LuaThread / (double)(Round * Rounds) < MaxBytesPerDelivery, $"the Lua thread allocated {bytes.LuaThread} bytes for {Round * Rounds} deliveries");
    }

    [Fact]
    public void A_c_api_delivery_allocates_nothing_in_steady_state()
    {
        var api = CApi.FromRegistry(_host.Lua)!;
        int errcode;
        nint utilId = api.RegRaw(_host.State, CApiTestUtility.NewLibId(), (nint)(delegate* unmanaged[Cdecl]<nint, void>)&IgnoreCancel, &errcode);
        Assert.Equal((int)DssStatus.Success, errcode);
        nint decode = (nint)(delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)&PushCallbackAndPData;
        int refused = 0;
        var bytes = Measure(() =>
        {
            for (int i = 0; i < Round; i++)
            {
                refused += api.DeliverRaw(utilId, decode, 0, i) == (int)DssStatus.Success ? 0 : 1;
            }
        });
        api.Unreg(utilId);

        Assert.Equal(0, refused);
        Assert.True(bytes.Producer / (double)(Round * Rounds) < MaxBytesPerDelivery, $"the producer allocated {bytes.Producer} bytes for {Round * Rounds} deliveries");
        Assert.True(bytes.LuaThread / (double)(Round * Rounds) < MaxBytesPerDelivery, $"the Lua thread allocated {bytes.LuaThread} bytes for {Round * Rounds} deliveries");
    }

    // One producer thread delivers a round, then the Lua thread (this one) dispatches it, and so
    // on: one warm-up round fills the pool, then the bytes each thread allocates are counted.
    private (long Producer, long LuaThread) Measure(Action deliverRound)
    {
        using var go = new SemaphoreSlim(0);
        using var done = new SemaphoreSlim(0);
        long producerBytes = 0;
        var producer = new Thread(() =>
        {
            for (int round = 0; round <= Rounds; round++)
            {
                go.Wait();
                long before = GC.GetAllocatedBytesForCurrentThread();
                deliverRound();
                if (round > 0)
                {
                    producerBytes += GC.GetAllocatedBytesForCurrentThread() - before;
                }
                done.Release();
            }
        }) { IsBackground = true, Name = "allocation-free producer" };
        producer.Start();

        long luaThreadBytes = 0;
        for (int round = 0; round <= Rounds; round++)
        {
            go.Release();
            Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "the producer did not finish its round");
            long before = GC.GetAllocatedBytesForCurrentThread();
            DispatchAll();
            if (round > 0)
            {
                luaThreadBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }
        producer.Join();
        Assert.Equal((Rounds + 1) * Round, _host.Integer("received"));
        return (producerBytes, luaThreadBytes);
    }

    // Through the registry and lua_pcall directly: no string to marshal, so the measurement sees only DSS.
    private void DispatchAll()
    {
        lua_rawgeti(_host.State, LUA_REGISTRYINDEX, _dispatchAll);
        if (lua_pcallk(_host.State, 0, 0, 0, 0, 0) != LUA_OK)
        {
            throw new InvalidOperationException("dispatch_all failed: " + lua_tostring(_host.State, -1));
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int PushCallbackAndPData(lua_State L, nint pData, nint utilId)
    {
        if (L == 0)
        {
            return 0;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, _callbackRef);
        lua_pushinteger(L, pData);
        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void IgnoreCancel(nint utilId)
    {
    }
}

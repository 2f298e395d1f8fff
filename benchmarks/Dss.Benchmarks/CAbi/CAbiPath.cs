using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static DarkSideSync.Benchmarks.CAbi.LuaC;

namespace DarkSideSync.Benchmarks.CAbi;

/// <summary>
/// A C utility written in C#: it finds the API struct in the registry, registers with
/// <c>reg</c>, and delivers through the <c>deliver</c> function pointer with
/// <c>[UnmanagedCallersOnly]</c> decode and return hooks. Hooks cannot capture, so the
/// utility's state is static, as in C.
/// </summary>
internal sealed unsafe class CAbiPath : IDeliveryPath
{
    private const int Success = -100;

    // static void* libid = &libid; — any address that is this library's alone.
    private static readonly nint LibId = (nint)NativeMemory.Alloc(1);

    private static DssApi1v0* s_api;  // set once on the Lua thread, before any producer starts
    private static int s_onItem;      // registry references of bench.on_item / bench.on_request
    private static int s_onRequest;

    private readonly nint _utilId;

    /// <summary>One blocking request: the producer's input, and Lua's answer written by ret.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Request
    {
        public long Input;
        public long Output;
    }

    /// <summary>Lua thread: what a C utility's luaopen does.</summary>
    public CAbiPath(BenchHost host)
    {
        nint L = host.State;
        lua_getfield(L, LUA_REGISTRYINDEX, "DSS.DarkSideSync\0"u8);
        lua_getfield(L, -1, "DSS API 1v0\0"u8);
        s_api = (DssApi1v0*)lua_touserdata(L, -1);
        lua_settop(L, -3);
        if (s_api is null || Marshal.PtrToStringUTF8((nint)s_api->Version) != "DSS API 1v0")
        {
            throw new InvalidOperationException("registry[\"DSS.DarkSideSync\"][\"DSS API 1v0\"] is missing.");
        }
        s_onItem = host.Reference("on_item").Id;
        s_onRequest = host.Reference("on_request").Id;
        int error;
        _utilId = s_api->Reg(L, LibId, &Cancel, &error);
        if (error != Success)
        {
            throw new InvalidOperationException($"reg: {error}");
        }
    }

    public string Name => "C ABI";

    public void DeliverItems(int first, int count)
    {
        for (int i = first; i < first + count; i++)
        {
            Check(s_api->Deliver(_utilId, &DecodeItem, null, i));
        }
    }

    public void DeliverNothing(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Check(s_api->Deliver(_utilId, &DecodeNothing, null, 0));
        }
    }

    public long RoundTrip(long x)
    {
        // pData lives on the blocked producer's stack, as in C.
        var request = new Request { Input = x, Output = long.MinValue };
        Check(s_api->Deliver(_utilId, &DecodeRequest, &Return, (nint)(&request)));
        return request.Output;
    }

    private static void Check(int status)
    {
        if (status != Success)
        {
            throw new InvalidOperationException($"deliver: {status}");
        }
    }

    // decode(L, pData, utilid): pData is the integer itself. L == NULL: cancelled, nothing to free.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeItem(nint L, nint pData, nint utilId)
    {
        if (L == 0)
        {
            return 0;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, s_onItem);
        lua_pushinteger(L, pData);
        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeNothing(nint L, nint pData, nint utilId) => 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DecodeRequest(nint L, nint pData, nint utilId)
    {
        if (L == 0)
        {
            return 0;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, s_onRequest);
        lua_pushinteger(L, ((Request*)pData)->Input);
        return 2;
    }

    // ret(L, pData, utilid, garbage): Lua's answer is at index 1. L == NULL: cancelled.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Return(nint L, nint pData, nint utilId, int garbage)
    {
        var request = (Request*)pData;
        if (L == 0 || garbage != 0)
        {
            request->Output = -1;
            return 0;
        }
        int isInteger;
        long answer = lua_tointegerx(L, 1, &isInteger);
        request->Output = isInteger != 0 ? answer : -1;
        return 0;
    }

    // Stop-DSS (closing the state at the end) asks the utility to unregister.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Cancel(nint utilId) => s_api->Unreg(utilId);
}

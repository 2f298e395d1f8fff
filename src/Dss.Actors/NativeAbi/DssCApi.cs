using Akka.Event;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DarkSideSync.Engine;
using DarkSideSync.Deliveries;
using DarkSideSync.Interop;
using DarkSideSync.LuaSide;

namespace DarkSideSync.NativeAbi;

/// <summary>
/// The five entry points of API 1v0 for C utilities. Each is a thin shim: it validates what C
/// handed it, returns the spec's code, and lets no exception escape into C.
/// </summary>
internal static unsafe class DssCApi
{
    private const string ApiVersion = "DSS API 1v0";

    /// <summary>The process-wide struct; allocated once in unmanaged memory and never freed.</summary>
    public static DssApi1v0* Instance { get; } = Create();

    private static DssApi1v0* Create()
    {
        var api = (DssApi1v0*)NativeMemory.AllocZeroed((nuint)sizeof(DssApi1v0));
        var version = (byte*)NativeMemory.AllocZeroed((nuint)ApiVersion.Length + 1);
        System.Text.Encoding.ASCII.GetBytes(ApiVersion, new Span<byte>(version, ApiVersion.Length));
        api->Version = version;
        api->Reg = &Reg;
        api->GetUtilId = &GetUtilId;
        api->Deliver = &Deliver;
        api->Unreg = &Unreg;
        return api;
    }

    private static void Report(int* errcode, DssStatus status)
    {
        if (errcode is not null)
        {
            *errcode = (int)status;
        }
    }

    // No exception may reach C. The spec has a code for a failed allocation; anything else
    // means this DSS cannot serve the call.
    private static DssStatus StatusOf(Exception e) =>
        e is OutOfMemoryException ? DssStatus.OutOfMemory : DssStatus.NotStarted;

    // void* reg(lua_State* L, void* libid, cancel_fn cancel, int* errcode); Lua thread.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Reg(lua_State L, nint libId, nint cancel, int* errcode)
    {
        try
        {
            if (cancel == 0)
            {
                Report(errcode, DssStatus.NoCancelProvided);
                return 0;
            }
            if (L == 0)
            {
                Report(errcode, DssStatus.NoGlobals);
                return 0;
            }
            var status = LuaBinding.Find(L, out var binding);
            if (status != DssStatus.Success)
            {
                Report(errcode, status);
                return 0;
            }
            if (binding!.Engine is not { } engine)
            {
                Report(errcode, DssStatus.NotStarted);
                return 0;
            }
            if (!TryLoadHookCalls(engine))
            {
                Report(errcode, DssStatus.NotStarted);
                return 0;
            }
            var cancelFn = (delegate* unmanaged[Cdecl]<nint, void>)cancel;
            nint utilId = 0;
            status = engine.Register(libId, () => cancelFn(utilId), out var registration);
            utilId = registration?.UtilId ?? 0;
            Report(errcode, status);
            return utilId;
        }
        catch (Exception e)
        {
            Report(errcode, StatusOf(e));
            return 0;
        }
    }

    // A C utility's hooks are called through the C trampoline, loaded when the first C utility
    // registers (hosts with .NET utilities only never need it).
    private static bool TryLoadHookCalls(DssEngine engine)
    {
        try
        {
            HookCalls.EnsureInitialized();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            engine.Log.Error(e, "C utilities need {0} beside Dss.Actors.dll; registration refused.", "libdarksidesync_hooks.so");
            return false;
        }
    }

    // void* getutilid(lua_State* L, void* libid, int* errcode); Lua thread.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint GetUtilId(lua_State L, nint libId, int* errcode)
    {
        try
        {
            LuaBinding? binding = null;
            var status = L == 0 ? DssStatus.NoGlobals : LuaBinding.Find(L, out binding);
            if (status != DssStatus.Success)
            {
                Report(errcode, status);
                return 0;
            }
            if (binding!.Engine is not { } engine)
            {
                Report(errcode, DssStatus.NotStarted);
                return 0;
            }
            var registration = engine.Find(libId);
            Report(errcode, registration is null ? DssStatus.UnknownLib : DssStatus.Success);
            return registration?.UtilId ?? 0;
        }
        catch (Exception e)
        {
            Report(errcode, StatusOf(e));
            return 0;
        }
    }

    // int deliver(void* utilid, decode_fn decode, return_fn ret, void* pData); any thread.
    // With ret != NULL it blocks until the delivery is complete (answered, decoded to nothing, or cancelled).
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Deliver(nint utilId, nint decode, nint ret, nint pData)
    {
        try
        {
            if (UtilityTable.Find(utilId) is not { } registration)
            {
                return (int)DssStatus.InvalidUtilId;
            }
            if (decode == 0)
            {
                return (int)DssStatus.NoDecodeProvided;
            }
            if (ret != 0 && HookGate.AnyHeldByCurrentThread)
            {
                // From inside a hook: the Lua thread (or the unregister) running it would have to
                // answer this delivery, or would wait for the hook's gate, while it blocks here.
                return (int)DssStatus.WouldDeadlock;
            }
            var delivery = NativeDelivery.Create(
                registration,
                (delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)decode,
                (delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)ret,
                pData);
            var status = registration.Deliver(delivery);
            if (ret != 0 && status.IsDelivered())
            {
                delivery.WaitUntilReleased();
            }
            return (int)status;
        }
        catch (Exception e)
        {
            return (int)StatusOf(e);
        }
    }

    // int unreg(void* utilid); any thread.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Unreg(nint utilId)
    {
        try
        {
            return UtilityTable.Find(utilId) is { } registration
                ? (int)registration.Unregister(CancelReason.UtilityUnregistered)
                : (int)DssStatus.InvalidUtilId;
        }
        catch (Exception)
        {
            return (int)DssStatus.InvalidUtilId;
        }
    }
}

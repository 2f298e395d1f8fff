using System.Diagnostics;
using Akka.Event;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DarkSideSync.Engine;
using DarkSideSync.Deliveries;
using DarkSideSync.Interop;
using DarkSideSync.LuaSide;
using DarkSideSync.Queueing;

namespace DarkSideSync.NativeAbi;

/// <summary>
/// The entry points of API 1v0 (five) and 1v1 (those, deliver_ex and queuesize) for C
/// utilities. Each is a thin shim: it validates what C handed it, returns the spec's code,
/// and lets no exception escape into C.
/// </summary>
internal static unsafe class DssCApi
{
    /// <summary>The process-wide 1v0 struct; allocated once in unmanaged memory and never freed.</summary>
    public static DssApi1v0* Instance { get; } = Create();

    /// <summary>The process-wide 1v1 struct (the 1v0 functions, then the new ones); never freed.</summary>
    public static DssApi1v1* Instance1v1 { get; } = Create1v1();

    private static DssApi1v0* Create()
    {
        var api = (DssApi1v0*)NativeMemory.AllocZeroed((nuint)sizeof(DssApi1v0));
        Fill(api, "DSS API 1v0");
        return api;
    }

    private static DssApi1v1* Create1v1()
    {
        var api = (DssApi1v1*)NativeMemory.AllocZeroed((nuint)sizeof(DssApi1v1));
        Fill(&api->Base, "DSS API 1v1");
        api->DeliverEx = &DeliverEx;
        api->QueueSize = &QueueSize;
        return api;
    }

    private static void Fill(DssApi1v0* api, string version)
    {
        api->Version = VersionString(version);
        api->Reg = &Reg;
        api->GetUtilId = &GetUtilId;
        api->Deliver = &Deliver;
        api->Unreg = &Unreg;
    }

    private static byte* VersionString(string text)
    {
        var version = (byte*)NativeMemory.AllocZeroed((nuint)text.Length + 1);
        System.Text.Encoding.ASCII.GetBytes(text, new Span<byte>(version, text.Length));
        return version;
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
    // A full bounded queue: overflow "block" waits for room without bound, "fail" refuses.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Deliver(nint utilId, nint decode, nint ret, nint pData)
    {
        try
        {
            return (int)DeliverCore(utilId, decode, ret, pData, RoomWait.ByPolicy, Timeout.Infinite);
        }
        catch (Exception e)
        {
            return (int)StatusOf(e);
        }
    }

    // int deliver_ex(void* utilid, decode_fn decode, return_fn ret, void* pData, int timeout_ms); any thread.
    // timeout_ms < 0: no bound; 0: never wait for room (an answer is awaited without bound);
    // > 0: at most that long in total from entry, for room and then for the answer.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DeliverEx(nint utilId, nint decode, nint ret, nint pData, int timeoutMs)
    {
        try
        {
            return (int)DeliverCore(utilId, decode, ret, pData, timeoutMs == 0 ? RoomWait.Never : RoomWait.Always, timeoutMs < 0 ? Timeout.Infinite : timeoutMs);
        }
        catch (Exception e)
        {
            return (int)StatusOf(e);
        }
    }

    private static DssStatus DeliverCore(nint utilId, nint decode, nint ret, nint pData, RoomWait wait, int timeoutMs)
    {
        if (UtilityTable.Find(utilId) is not { } registration)
        {
            UtilityTable.RefusedForGone(utilId);
            return DssStatus.InvalidUtilId;
        }
        if (decode == 0)
        {
            registration.Engine.Statistics.Refused();
            return DssStatus.NoDecodeProvided;
        }
        if (ret != 0 && registration.Engine.MustNotWait)
        {
            // From inside a hook, or on the Lua thread: the thread that would have to answer this
            // delivery (or a thread waiting for the hook's gate) would be the one blocked here.
            registration.Engine.Statistics.Refused();
            return DssStatus.WouldDeadlock;
        }
        long entry = timeoutMs > 0 ? Stopwatch.GetTimestamp() : 0;
        var delivery = NativeDelivery.Create(
            registration,
            (delegate* unmanaged[Cdecl]<lua_State, nint, nint, int>)decode,
            (delegate* unmanaged[Cdecl]<lua_State, nint, nint, int, int>)ret,
            pData);
        var status = registration.Deliver(delivery, wait, blocksThread: true, out var waiter);
        if (waiter is not null)
        {
            status = registration.Engine.AwaitRoom(waiter, timeoutMs);
        }
        if (ret == 0 || !status.IsDelivered())
        {
            return status;
        }
        if (timeoutMs <= 0 || wait == RoomWait.Never)
        {
            delivery.WaitUntilReleased();
            return status;
        }
        long left = timeoutMs - (long)Stopwatch.GetElapsedTime(entry).TotalMilliseconds;
        return delivery.WaitUntilReleased((int)Math.Max(0, left), status);
    }

    // int queuesize(void* utilid); any thread (API 1v1): deliveries queued in the utility's Lua state.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int QueueSize(nint utilId)
    {
        try
        {
            if (UtilityTable.Find(utilId) is not { IsRegistered: true } registration)
            {
                return (int)DssStatus.InvalidUtilId;
            }
            return registration.Engine.IsRunning ? registration.Engine.Mailbox.Count : (int)DssStatus.NotStarted;
        }
        catch (Exception)
        {
            return (int)DssStatus.InvalidUtilId;
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

using System.Runtime.InteropServices;
using KeraLua;
using lua_State = nint;

namespace DarkSideSync.Tests.Support;

/// <summary>The DSS API 1v1 struct as a C utility declares it: the five 1v0 fields, then deliver_ex and queuesize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CApi1v1Struct
{
    public byte* Version;
    public delegate* unmanaged[Cdecl]<lua_State, nint, nint, int*, nint> Reg;
    public delegate* unmanaged[Cdecl]<lua_State, nint, int*, nint> GetUtilId;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int> Deliver;
    public delegate* unmanaged[Cdecl]<nint, int> Unreg;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int, int> DeliverEx;
    public delegate* unmanaged[Cdecl]<nint, int> QueueSize;
}

/// <summary>
/// The C API 1v1 as a C utility reaches it: <c>registry["DSS.DarkSideSync"]["DSS API 1v1"]</c>,
/// called only through the struct's function pointers, with the hooks of <see cref="CApiTestUtility"/>.
/// </summary>
internal sealed unsafe class CApi1v1
{
    private readonly CApi1v1Struct* _api;

    private CApi1v1(CApi1v1Struct* api) => _api = api;

    public nint Address => (nint)_api;

    public CApi1v1Struct* Struct => _api;

    public string? Version => Marshal.PtrToStringUTF8((nint)_api->Version);

    /// <summary>Lua thread: the struct the state's registry publishes, or null when it publishes none.</summary>
    public static CApi1v1? FromRegistry(Lua lua)
    {
        int top = lua.GetTop();
        try
        {
            if (lua.GetField(LuaRegistry.Index, "DSS.DarkSideSync") != LuaType.Table
                || lua.GetField(-1, "DSS API 1v1") != LuaType.LightUserData)
            {
                return null;
            }
            return new CApi1v1((CApi1v1Struct*)lua.ToUserData(-1));
        }
        finally
        {
            lua.SetTop(top);
        }
    }

    /// <summary>deliver_ex with the test hooks (ret only for a blocking item).</summary>
    public int DeliverEx(nint utilId, CApiItem item, int timeoutMs) =>
        _api->DeliverEx(utilId, CApiTestUtility.Decode, item.Blocking ? CApiTestUtility.Ret : 0, item.PData, timeoutMs);

    /// <summary>1v0's deliver through the 1v1 struct (the same function).</summary>
    public int Deliver(nint utilId, CApiItem item) =>
        _api->Deliver(utilId, CApiTestUtility.Decode, item.Blocking ? CApiTestUtility.Ret : 0, item.PData);

    public int QueueSize(nint utilId) => _api->QueueSize(utilId);
}

/// <summary>One C call on a fresh OS thread of its own (a C utility's worker); the task ends with what it returned.</summary>
internal static class OnThread
{
    public static Task<int> Run(string name, Func<int> call)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            try
            {
                done.SetResult(call());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true, Name = name }.Start();
        return done.Task;
    }
}

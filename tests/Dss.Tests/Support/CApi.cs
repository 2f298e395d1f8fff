using System.Runtime.InteropServices;
using KeraLua;
using lua_State = nint;

namespace DarkSideSync.Tests.Support;

/// <summary>The DSS API 1v0 struct as a C utility declares it: five pointer-sized fields, in this order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CApiStruct
{
    public byte* Version;
    public delegate* unmanaged[Cdecl]<lua_State, nint, nint, int*, nint> Reg;
    public delegate* unmanaged[Cdecl]<lua_State, nint, int*, nint> GetUtilId;
    public delegate* unmanaged[Cdecl]<nint, nint, nint, nint, int> Deliver;
    public delegate* unmanaged[Cdecl]<nint, int> Unreg;
}

/// <summary>
/// The C API as a C utility reaches it: read from <c>registry["DSS.DarkSideSync"]["DSS API 1v0"]</c>
/// and called only through the struct's function pointers. The methods are thin typed calls;
/// the hooks they pass are those of <see cref="CApiTestUtility"/>.
/// </summary>
internal sealed unsafe class CApi
{
    private readonly CApiStruct* _api;

    private CApi(CApiStruct* api) => _api = api;

    public nint Address => (nint)_api;

    public string? Version => Marshal.PtrToStringUTF8((nint)_api->Version);

    /// <summary>Lua thread: the struct the state's registry publishes, or null when it publishes none.</summary>
    public static CApi? FromRegistry(Lua lua)
    {
        int top = lua.GetTop();
        try
        {
            if (lua.GetField(LuaRegistry.Index, "DSS.DarkSideSync") != LuaType.Table
                || lua.GetField(-1, "DSS API 1v0") != LuaType.LightUserData)
            {
                return null;
            }
            return new CApi((CApiStruct*)lua.ToUserData(-1));
        }
        finally
        {
            lua.SetTop(top);
        }
    }

    /// <summary>reg with one of the test cancel hooks; the hook records into <paramref name="log"/> under <paramref name="name"/>.</summary>
    public nint Reg(lua_State L, nint libId, CApiLog log, string name, out int errcode, bool unregOnCancel = true)
    {
        int code;
        nint utilId = _api->Reg(L, libId, unregOnCancel ? CApiTestUtility.CancelAndUnreg : CApiTestUtility.CancelOnly, &code);
        errcode = code;
        if (utilId != 0 && code == (int)DssStatus.Success)
        {
            CApiTestUtility.OnCancel(utilId, this, log, name);
        }
        return utilId;
    }

    public nint RegRaw(lua_State L, nint libId, nint cancel, int* errcode) => _api->Reg(L, libId, cancel, errcode);

    public nint GetUtilId(lua_State L, nint libId, out int errcode)
    {
        int code;
        nint utilId = _api->GetUtilId(L, libId, &code);
        errcode = code;
        return utilId;
    }

    public nint GetUtilIdRaw(lua_State L, nint libId, int* errcode) => _api->GetUtilId(L, libId, errcode);

    /// <summary>deliver with the test decode, and the test ret when <paramref name="item"/> is blocking (this call then blocks).</summary>
    public int Deliver(nint utilId, CApiItem item) =>
        _api->Deliver(utilId, CApiTestUtility.Decode, item.Blocking ? CApiTestUtility.Ret : 0, item.PData);

    public int DeliverRaw(nint utilId, nint decode, nint ret, nint pData) => _api->Deliver(utilId, decode, ret, pData);

    public int Unreg(nint utilId) => _api->Unreg(utilId);
}
